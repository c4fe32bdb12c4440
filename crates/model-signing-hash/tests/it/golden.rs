//! Golden vectors: models described in code, each with the hashing settings
//! and the root digest and resources the Python reference (`model-signing`
//! 1.1.1) gives for it.
//!
//! The expected values were produced once by the reference and are committed
//! as literals. Two tests use the table:
//! - `engine_reproduces_golden_table`: our engine gives exactly these values;
//! - `reference_reproduces_golden_table`: the installed reference, asked again
//!   on a freshly built copy of each model, gives exactly these values too, so
//!   the table is proven against the reference rather than against ourselves.
//!
//! When a row changes on purpose, `reference_reproduces_golden_table` prints
//! the reference's values in table syntax.

use crate::support;

use std::path::{Path, PathBuf};

use model_signing_hash::HashAlgorithm::{self, Blake2b, Blake3, Sha256};
use model_signing_hash::{hash_model, root_digest, HashConfig, NoProgress};
use support::{bytes, dir, link, text, Node};

/// Hashing settings of a row.
#[derive(Debug, Clone, Copy)]
struct Cfg {
    /// `None` for the files method.
    shard_size: Option<u64>,
    hash: HashAlgorithm,
    ignores: &'static [&'static str],
    git: bool,
    symlinks: bool,
}

/// The defaults: files, SHA-256, git paths ignored, symlinks refused.
const FILES: Cfg = Cfg {
    shard_size: None,
    hash: Sha256,
    ignores: &[],
    git: true,
    symlinks: false,
};

const fn shards(size: u64) -> Cfg {
    Cfg {
        shard_size: Some(size),
        ..FILES
    }
}

impl Cfg {
    fn config(self) -> HashConfig {
        let mut c = HashConfig::new()
            .algorithm(self.hash)
            .ignore_git_paths(self.git)
            .allow_symlinks(self.symlinks)
            .ignore_paths(self.ignores)
            .expect("valid ignore paths");
        if let Some(size) = self.shard_size {
            c = c.shards(size).expect("valid shard size");
        }
        c
    }
}

/// How a row's expected values are tied to the reference.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// The reference hashes the very same model.
    Reference,
    /// The reference cannot express the model as it is (the reason is given):
    /// it hashes a copy of the model in which every symbolic link is replaced
    /// by a copy of its target. Since following a link must mean exactly that,
    /// the row is still proven against the reference.
    Dereferenced(&'static str),
}

struct Golden {
    name: &'static str,
    model: &'static [Node],
    /// What to hash, relative to the model directory: `.` for the directory,
    /// or one file of it for a single-file model.
    at: &'static str,
    cfg: Cfg,
    check: Check,
    root: &'static str,
    /// (name, algorithm, hex digest) in signing order.
    resources: &'static [(&'static str, &'static str, &'static str)],
}

const ONE_FILE: &[Node] = &[text("model.bin", "hello\n")];

const NESTED: &[Node] = &[
    text("top.txt", "top\n"),
    text("with space.txt", "spaces\n"),
    text(".hidden", "dot\n"),
    text("d1/a", "a\n"),
    text("d1/.hidden2", "h2\n"),
    bytes("d1/d2/b.bin", 300, 1),
    text("d1/d2/d3/c", "c\n"),
    dir("d1/empty"),
    dir("empty_top/inner"),
];

const WITH_EMPTY: &[Node] = &[text("empty", ""), text("full", "x"), text("sub/empty2", "")];

/// `a/b` sorts before `a-b` and `a.b/c` although `/` (0x2F) is a larger
/// character than `-` (0x2D) and `.` (0x2E): paths compare component by
/// component, and `a` is a prefix of `a-b`. `A` (0x41) and `_` (0x5F) come
/// before every lowercase name.
const ORDERING: &[Node] = &[
    text("a/b", "1\n"),
    text("a-b", "2\n"),
    text("a.b/c", "3\n"),
    text("A", "4\n"),
    text("_", "5\n"),
    text("b", "6\n"),
    text("a0", "7\n"),
];

const NON_ASCII: &[Node] = &[
    text("e", "plain e\n"),
    text("é", "precomposed e acute\n"),
    text("e\u{301}", "e + combining acute\n"),
    text("ß", "sharp s\n"),
    text("z", "z\n"),
    text("Ω/x", "omega\n"),
    text("日本/語.bin", "nihongo\n"),
    text("🦀.bin", "crab\n"),
    text("a:b", "colon\n"),
];

const MANY_SHARDS: &[Node] = &[bytes("a", 50, 2), bytes("a.b", 9, 3), bytes("b", 44, 4)];

const BOUNDARIES: &[Node] = &[
    bytes("s07", 7, 7),
    bytes("s08", 8, 8),
    bytes("s09", 9, 9),
    bytes("s15", 15, 15),
    bytes("s16", 16, 16),
    bytes("s17", 17, 17),
    bytes("s01", 1, 1),
];

/// Larger than the engine's read chunks (1 MiB streaming, 8 MiB for BLAKE3),
/// so that multi-chunk reads and shard offsets inside a chunk are exercised.
const LARGE: &[Node] = &[
    bytes("big.bin", (8 << 20) + 4097, 42),
    bytes("mid.bin", (1 << 20) + 1, 43),
];

const GIT: &[Node] = &[
    text(".git/HEAD", "ref: refs/heads/main\n"),
    text(".git/objects/ab/cdef", "object\n"),
    text(".gitattributes", "*.bin filter=lfs\n"),
    text(".github/workflows/ci.yml", "on: push\n"),
    text(".gitignore", "/target\n"),
    text(".gitmodules", "[submodule \"sub\"]\n"),
    text("sub/.git/HEAD", "ref: refs/heads/dev\n"),
    text("sub/.gitignore", "*.tmp\n"),
    text(".git2", "not git\n"),
    text("model.bin", "weights\n"),
];

const IGNORES: &[Node] = &[
    text("d/x", "dx\n"),
    text("d/y/z", "dyz\n"),
    text("d2", "d2\n"),
    text("dd/x", "ddx\n"),
    text("e/f/g", "efg\n"),
    text("e/f2", "ef2\n"),
    text("e/g/f", "egf\n"),
    text("single.txt", "single\n"),
    text("keep", "keep\n"),
];

const FILE_LINKS: &[Node] = &[
    text("target.bin", "target content\n"),
    link("link.bin", "target.bin"),
    link("sub/up.bin", "../target.bin"),
    link("chain.bin", "link.bin"),
    text("../outside.bin", "outside the model\n"),
    link("out.bin", "../outside.bin"),
];

const DIR_LINKS: &[Node] = &[
    text("d/x", "x\n"),
    text("d/y/z", "z\n"),
    link("ld", "d"),
    link("sub/up", "../d/y"),
    text("../outside/w", "w outside\n"),
    link("lo", "../outside"),
];

const IGNORED_LINK: &[Node] = &[text("keep", "keep\n"), link("ign/l", "../keep")];

const MODEL_LINK: &[Node] = &[
    text("real/a", "a\n"),
    text("real/b/c", "c\n"),
    link("lm", "real"),
    link("lf", "real/a"),
];

static GOLDEN: &[Golden] = &[
    Golden {
        name: "single_file",
        model: ONE_FILE,
        at: "model.bin",
        cfg: FILES,
        check: Check::Reference,
        root: "ecb65bb98f9d905b70458986c39fcbad7715e5f2fcc3b1f07767d7c83e2438cc",
        resources: &[
            (".", "sha256", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
        ],
    },
    Golden {
        name: "single_file_shards",
        model: ONE_FILE,
        at: "model.bin",
        cfg: shards(4),
        check: Check::Reference,
        root: "0933b9d6c58cdc9703f7248258f4e0d0e072f34a413fb93de59d00d9f49e3e17",
        resources: &[
            (".:0:4", "sha256-sharded-4", "0ebdc3317b75839f643387d783535adc360ca01f33c75f7c1e7373adcd675c0b"),
            (".:4:6", "sha256-sharded-4", "7427d152005f9ed0fa31c76ef9963cf4bb47dce6e2768111d9eb0edbfe59c704"),
        ],
    },
    Golden {
        name: "single_file_blake3",
        model: ONE_FILE,
        at: "model.bin",
        cfg: Cfg {
            hash: Blake3,
            ..FILES
        },
        check: Check::Reference,
        root: "a7df4ac01af1cd039ab47ad786a542adbf89c65309c6a30500a34c9f73018780",
        resources: &[
            (".", "blake3", "8e4c7c1b99dbfd50e7a95185fead5ee1448fa904a2fdd778eaf5f2dbfd629a99"),
        ],
    },
    Golden {
        name: "dir_with_one_file",
        model: ONE_FILE,
        at: ".",
        cfg: FILES,
        check: Check::Reference,
        root: "ecb65bb98f9d905b70458986c39fcbad7715e5f2fcc3b1f07767d7c83e2438cc",
        resources: &[
            ("model.bin", "sha256", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
        ],
    },
    Golden {
        name: "empty_file_files",
        model: WITH_EMPTY,
        at: ".",
        cfg: FILES,
        check: Check::Reference,
        root: "9d71478e292f71a18f6ec21935208d33dc1edd77f109962f39d2288f9fd8be21",
        resources: &[
            ("empty", "sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("full", "sha256", "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"),
            ("sub/empty2", "sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ],
    },
    Golden {
        name: "empty_file_shards",
        model: WITH_EMPTY,
        at: ".",
        cfg: shards(4),
        check: Check::Reference,
        root: "0a325ca303eb3014c43ae004970f343634db176fa1697bcc8c9efac94626488d",
        resources: &[
            ("full:0:1", "sha256-sharded-4", "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"),
        ],
    },
    Golden {
        name: "nested_dirs",
        model: NESTED,
        at: ".",
        cfg: FILES,
        check: Check::Reference,
        root: "63789bc125032ed9a3d8b34293da7e645c10737aed4312d6467b627dd0cf0b9e",
        resources: &[
            (".hidden", "sha256", "5ddbce254c08372e429a250112c6f4593868687ab01e9a126193e5a83560362b"),
            ("d1/.hidden2", "sha256", "1e2ba5c7c2b12368c550cd5d1bbf8265e4643b78f9d0c07008b1b7e95aeafa42"),
            ("d1/a", "sha256", "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"),
            ("d1/d2/b.bin", "sha256", "35495aae3889f24aa761466ac91b1ee6b38b368cad6517fbc190e01df08de3d4"),
            ("d1/d2/d3/c", "sha256", "a3a5e715f0cc574a73c3f9bebb6bc24f32ffd5b67b387244c2c909da779a1478"),
            ("top.txt", "sha256", "f7de2947c64cb6435e15fb2bef359d1ed5f6356b2aebb7b20535e3772904e6db"),
            ("with space.txt", "sha256", "e47fbedb2823cf1ae4d4cdb8273635be2024cb870588e259c9b23d76ae49d484"),
        ],
    },
    Golden {
        name: "nested_dirs_blake2b",
        model: NESTED,
        at: ".",
        cfg: Cfg {
            hash: Blake2b,
            ..FILES
        },
        check: Check::Reference,
        root: "b68699a8c82b34ab5f2f2af4776e6eaa20b4be60828625228ed18913f6defd5c",
        resources: &[
            (".hidden", "blake2b", "de26a928e191b152e45adb568b30b52c850ba5e81a9e581d99fdd499f881c2adec56983680b3d65fc0f4d4c648fbe78604c7e10b771c9ac373ce7740649bcd9a"),
            ("d1/.hidden2", "blake2b", "c8e181af265f4730c6405726ab89fa0d29249c5698cf952e13f5d1964e489dd39dc183091c7ca0e0c9049c0c0b49d02b0dc4534e683cb0c3f2141899fbf201ca"),
            ("d1/a", "blake2b", "bedfbb90d858c2d67b7ee8f7523be3d3b54004ef9e4f02f2ad79a1d05bfdfe49b81e3c92ebf99b504102b6bf003fa342587f5b3124c205f55204e8c4b4ce7d7c"),
            ("d1/d2/b.bin", "blake2b", "62db155228840cfe6f8fb92a95c13f409a9d147836a8229d04f17214171b4d3e9ff148838a14f869570345074f540aa13b85a2c1218a505eefa8b76cc8a851a0"),
            ("d1/d2/d3/c", "blake2b", "0308bb5e0e3f7bdbbf4c7aee9e856c43b11965ff4e6b48be9782af9aa20cf473fd86a7ad6375985ab517d38be8482d7e43a145d6c8630e9813cbe0699ec2e80f"),
            ("top.txt", "blake2b", "16699050bdc98cee0489bbb84b0dea3e1a784c0db53c7967088ef373f3ea8fb2dbe993fca4ab3af974e23d4adbf91b1695c6650922420d91771d5fe2d0ac39ba"),
            ("with space.txt", "blake2b", "3eb84104270057a6c4d76d71b7639ea6fe19f7c9377bf497d4a9f315425a0d13c3b9d0e7451c2b891fdb0d9b8486a93e9354ac4657ae66b5ff60690eb2b03801"),
        ],
    },
    Golden {
        name: "nested_dirs_blake3",
        model: NESTED,
        at: ".",
        cfg: Cfg {
            hash: Blake3,
            ..FILES
        },
        check: Check::Reference,
        root: "5550a33d0cc005e810a3993c2a6b675d0f5f2241ceff25f1a21bbc9174e40a0c",
        resources: &[
            (".hidden", "blake3", "0dda686af7a12287492cdb594bc21a9e4c3bfe4b315fc56207f5548cda7d84e7"),
            ("d1/.hidden2", "blake3", "c29f1ab7a516c374ed19565fcbdae8cb43ec906223af6ec5961ba0f93ce5437d"),
            ("d1/a", "blake3", "81c4b7f7e0549f1514e9cae97cf40cf133920418d3dc71bedbf60ec9bd6148cb"),
            ("d1/d2/b.bin", "blake3", "24b4b79980cbc6976f82cf83b10acea6197a044ea24604938c01d3fc465de086"),
            ("d1/d2/d3/c", "blake3", "d1cd1ec45291d06cdde016568971990c7e4da895f2e5a8a705d4feeb79578a69"),
            ("top.txt", "blake3", "996229c4443d01839cb7a6da04583a68c393d7ed8aecc26a4231cdc3c8a5351a"),
            ("with space.txt", "blake3", "96a82198c5550ed36da3ba06774d6b2d05a351e69db706dc4a2f8cdc1023f2b6"),
        ],
    },
    Golden {
        name: "ordering",
        model: ORDERING,
        at: ".",
        cfg: FILES,
        check: Check::Reference,
        root: "90c6ae1c958a551223db620262aa6578d031ad7cdcd3a06be2d40b38aaeeabba",
        resources: &[
            ("A", "sha256", "7de1555df0c2700329e815b93b32c571c3ea54dc967b89e81ab73b9972b72d1d"),
            ("_", "sha256", "f0b5c2c2211c8d67ed15e75e656c7862d086e9245420892a7de62cd9ec582a06"),
            ("a/b", "sha256", "4355a46b19d348dc2f57c046f8ef63d4538ebb936000f3c9ee954a27460dd865"),
            ("a-b", "sha256", "53c234e5e8472b6ac51c1ae1cab3fe06fad053beb8ebfd8977b010655bfdd3c3"),
            ("a.b/c", "sha256", "1121cfccd5913f0a63fec40a6ffd44ea64f9dc135c66634ba001d10bcf4302a2"),
            ("a0", "sha256", "10159baf262b43a92d95db59dae1f72c645127301661e0a3ce4e38b295a97c58"),
            ("b", "sha256", "06e9d52c1720fca412803e3b07c4b228ff113e303f4c7ab94665319d832bbfb7"),
        ],
    },
    Golden {
        name: "ordering_shards",
        model: ORDERING,
        at: ".",
        cfg: shards(1),
        check: Check::Reference,
        root: "76aff0441227adf928a51f633c879432e5fdc7822c957651fbf7abbf7ec2e6df",
        resources: &[
            ("A:0:1", "sha256-sharded-1", "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"),
            ("A:1:2", "sha256-sharded-1", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("_:0:1", "sha256-sharded-1", "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"),
            ("_:1:2", "sha256-sharded-1", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("a/b:0:1", "sha256-sharded-1", "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"),
            ("a/b:1:2", "sha256-sharded-1", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("a-b:0:1", "sha256-sharded-1", "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"),
            ("a-b:1:2", "sha256-sharded-1", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("a.b/c:0:1", "sha256-sharded-1", "4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce"),
            ("a.b/c:1:2", "sha256-sharded-1", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("a0:0:1", "sha256-sharded-1", "7902699be42c8a8e46fbbb4501726517e86b22c56a189f7625a6da49081b2451"),
            ("a0:1:2", "sha256-sharded-1", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("b:0:1", "sha256-sharded-1", "e7f6c011776e8db7cd330b54174fd76f7d0216b612387a5ffcfb81e6f0919683"),
            ("b:1:2", "sha256-sharded-1", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
        ],
    },
    Golden {
        name: "non_ascii",
        model: NON_ASCII,
        at: ".",
        cfg: FILES,
        check: Check::Reference,
        root: "903ff0ff1b2f1656be89ab9b9c0b1ba7004450b705d3c9751bb48c87d005806d",
        resources: &[
            ("a:b", "sha256", "2cf7dfa85271cc3692d6572705aa84342f5b87ee90386b97d96eb37bbe2850c8"),
            ("e", "sha256", "5f53c79b97b0f41f8946c87ede1e5b0d7077d569b37fe6689e65ecf5679ecc03"),
            ("e\u{301}", "sha256", "ba9f324fa5baa1126ab973a13b84838c660edc9c90e55ce0df1fa904dad64b28"),
            ("z", "sha256", "c865f6c5ab8d1b0bcd383a5e1e3879d22681c96bf462c269b7581d523fbe70ab"),
            ("ß", "sha256", "06e741939c6f9590219cd7fb16a1c02df29379297fb8222aa8b8a5dbec7bf3d1"),
            ("é", "sha256", "60fbde4c3f90e23103d58be001ad4a7394e1651320d2d44a45582b8f25a9e6da"),
            ("Ω/x", "sha256", "3eeb0cea8bf176427633a47a62ee8c813844d574d48554a0d715e12dcbbaeda6"),
            ("日本/語.bin", "sha256", "8f25aabe30a0e7bd7cb4b72d9d0873db4d63ba0f279b6d1f4335783ee9d7b710"),
            ("🦀.bin", "sha256", "7826b708c666008d075990de861a09e4de584ab032239151768c26150290a386"),
        ],
    },
    Golden {
        name: "non_ascii_shards",
        model: NON_ASCII,
        at: ".",
        cfg: shards(4),
        check: Check::Reference,
        root: "96463a7b7c3faf0737850520d5b3a22511ac6f78d32aea46a1f32c4c75a96b0d",
        resources: &[
            ("a:b:0:4", "sha256-sharded-4", "22ee42c4ffbff5fd273e9616d3b28badf5f057f17ffc0f51292cc7a3c974a5dd"),
            ("a:b:4:6", "sha256-sharded-4", "a4fb621495a0122493b2203591c448903c472e306a1ede54fabad829e01075c0"),
            ("e:0:4", "sha256-sharded-4", "8ef684366049dd3b6c4113635132e842bca3e935bd6c64abc91caaec92dbcd04"),
            ("e:4:8", "sha256-sharded-4", "e6513c161d535ce92b4e76f66383afccd709cf29ac108028a5151da5793228ba"),
            ("e\u{301}:0:4", "sha256-sharded-4", "c2ac0f37d31b081d7179f04e8c20e8e745acab69add8f73e0f138c41f3057cd1"),
            ("e\u{301}:4:8", "sha256-sharded-4", "ef4e3f50798387464764d41308391dedf25280c5dd34b87d233017428c278ee2"),
            ("e\u{301}:8:12", "sha256-sharded-4", "78bfc1830b9a207ffd78111e029be3d6c8bc94e227f887474e7c49d60c2bc534"),
            ("e\u{301}:12:16", "sha256-sharded-4", "6fd2ddf45a2cb02c2a67bc503859c0fae8c1a044f54b08e482db9a10a36e5541"),
            ("e\u{301}:16:20", "sha256-sharded-4", "2ca219d3c25ae12b9105617dadb26d234e3f55b50c51cb9f1929f707b8194b14"),
            ("z:0:2", "sha256-sharded-4", "c865f6c5ab8d1b0bcd383a5e1e3879d22681c96bf462c269b7581d523fbe70ab"),
            ("ß:0:4", "sha256-sharded-4", "8bb596034beab707c5cf1c371512237d906fbc6e44e89981198209dcfcbb326f"),
            ("ß:4:8", "sha256-sharded-4", "e16dc7999af9be1d7b71fe2d5eb81f8d1f56a173f94ac908ba014d81ca85a086"),
            ("é:0:4", "sha256-sharded-4", "da4a07bd2a2b38f3cc934081965064c7e986b61e67c176b6ffcaf43aa6b2501f"),
            ("é:4:8", "sha256-sharded-4", "d7b19de7aed5e4ca5d0a054cacc32264aa13698b0333f9fc84627fbdaf630b15"),
            ("é:8:12", "sha256-sharded-4", "8f32b04ddf4ffb976aa269f0af995a18d17d7ffb50bad0d3447bde7ab3aeaec3"),
            ("é:12:16", "sha256-sharded-4", "a6638331fe37c04ea4495df209f46e8716f860fea786a6aee84362b2575bd414"),
            ("é:16:20", "sha256-sharded-4", "2ca219d3c25ae12b9105617dadb26d234e3f55b50c51cb9f1929f707b8194b14"),
            ("Ω/x:0:4", "sha256-sharded-4", "ab7cc5b4419522bd4730fc976f9244a9df59e6acf7f16c1758eb1366900fa432"),
            ("Ω/x:4:6", "sha256-sharded-4", "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"),
            ("日本/語.bin:0:4", "sha256-sharded-4", "029ad1f74b2b654b35354b48ca6f80df2d3c9ac5e7df9f5a30be7c0428923225"),
            ("日本/語.bin:4:8", "sha256-sharded-4", "515900b05966f0b225fa43e12885e0dd0a20123d03b44e6976537c7b5af7e878"),
            ("🦀.bin:0:4", "sha256-sharded-4", "3349a915f7cd0c2ff25e4b8ee4eaf965ba1de9c25062e649e4d94f8137ce9342"),
            ("🦀.bin:4:5", "sha256-sharded-4", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
        ],
    },
    Golden {
        name: "many_shards",
        model: MANY_SHARDS,
        at: ".",
        cfg: shards(4),
        check: Check::Reference,
        root: "ba3b5094f5958fbd8a01ad59d618334dbc0df7ec8714fc714aed36a2576c9622",
        resources: &[
            ("a:0:4", "sha256-sharded-4", "3d83b623694d19dc5b18d1f96c88ad51837b465f0114ea9a692ce08b2b95a724"),
            ("a:4:8", "sha256-sharded-4", "32e0cdec22253252a5a83b3093f45585b51ad0cd1b46753b23362b4798608647"),
            ("a:8:12", "sha256-sharded-4", "e067919a560c6efde732ce9b91e344dbfb9b3baf776fd8e5600e45822a0c0cb1"),
            ("a:12:16", "sha256-sharded-4", "5ee8155a9f968fc4689193a51f60ec9fbcf561580d7997fb7a9fd5088611f875"),
            ("a:16:20", "sha256-sharded-4", "5438a4b65d2ebfb237a610dd737b65d377b02a56c394f0fb5edc903e9e0e22e7"),
            ("a:20:24", "sha256-sharded-4", "2ee505fd6b0b100e52724f89c89f2d2e1a9423e2afda9e33badf81e9e4e7401b"),
            ("a:24:28", "sha256-sharded-4", "252dd2d741e07286753f9af4186b050e601a94efbb56659002a68e6d51aa3aef"),
            ("a:28:32", "sha256-sharded-4", "d24d76bfdab530db50f4b7ec97ffffe3ff361c4f513a04a8533bbc378ff80add"),
            ("a:32:36", "sha256-sharded-4", "21b339d90315662efad8954cfa0c3aa700524051850695a1c19327cebe7771c1"),
            ("a:36:40", "sha256-sharded-4", "c5cb8edbba9c11e631b1eba153758b7755c28a4daa591c57e6d9fd63cfbe085f"),
            ("a:40:44", "sha256-sharded-4", "13969b4b3d4a47c03e7a400d9e3d7c486d5e6ae51f499d52e525981bf4355c74"),
            ("a:44:48", "sha256-sharded-4", "b5eb25e66cda4b45b12a39a63b84f4f0a7b96e1d9b64e5d581ad0e187940fc04"),
            ("a:48:50", "sha256-sharded-4", "cb117e42dcb82c1cd48f1757a07c8ee85a6c88b1364f7be398b0dafad3f4590e"),
            ("a.b:0:4", "sha256-sharded-4", "2f412e1eeb18625f0a1112773f3b63345cdbd09a6f73921d1484902a77bb4263"),
            ("a.b:4:8", "sha256-sharded-4", "ab20a65da10b3afa72839cb604e269cce32d46800432469c100674b874491d67"),
            ("a.b:8:9", "sha256-sharded-4", "ee6bb86b44339392bae631c8f61dd8f009243c635adab33c0b20923a2794bf22"),
            ("b:0:4", "sha256-sharded-4", "7f5738f74da216e40a2ca32f5dc5eeca1c352090e16c8151956ea16434015135"),
            ("b:4:8", "sha256-sharded-4", "01b493ee7a6c49823867764fec14121c4d3bc1e8be1e0b76a3a82a83693c217d"),
            ("b:8:12", "sha256-sharded-4", "ded8d4eaf78af0e8c8120c5c6297ace3bd0c43f8c6439fee0573b47677fddc44"),
            ("b:12:16", "sha256-sharded-4", "9397725bf714d4793fcefe32a4a9daff1e7feb9f1fd9a263fb1a460ec16b9f22"),
            ("b:16:20", "sha256-sharded-4", "ff9bdac1e3a7729b857746f1dd7666ffefa3a9e78c3d8d9355acb45dfa977824"),
            ("b:20:24", "sha256-sharded-4", "125ba9db46d5eeb357746751324b0264807b3884383a3960cb8c824d25b64013"),
            ("b:24:28", "sha256-sharded-4", "abd1614f4a2ee8ef869d4d8d9102d5bc59cbdbd9a0b6f0c601355f717ce45414"),
            ("b:28:32", "sha256-sharded-4", "99caa666b38d5550c3a682dcee821d766595803884e26abff61703c4827247a5"),
            ("b:32:36", "sha256-sharded-4", "2b8729455b7cbfbba4f446698a0f27b6e94ad3d61ed93e6c20517a1ddaa6282c"),
            ("b:36:40", "sha256-sharded-4", "e6907ff5c609c899b175055f662b6acba241cddfc17962856966e339cac7b55b"),
            ("b:40:44", "sha256-sharded-4", "403f3e9d5aa396c93abc709e3678967b7186da813fd9e71316e86f5553e7242e"),
        ],
    },
    Golden {
        name: "shard_boundaries",
        model: BOUNDARIES,
        at: ".",
        cfg: shards(8),
        check: Check::Reference,
        root: "c8e38d12b4a31a983370f7a86658a499c8c1b68d0faabdf87a567a33f5f44508",
        resources: &[
            ("s01:0:1", "sha256-sharded-8", "f4f97c88c409dcf3789b5b518da3f7d266c488066e97a606e38a150779880735"),
            ("s07:0:7", "sha256-sharded-8", "f28e97641bf4d78103b6a6b222c7d989bf2b03cc75f01a6b6e0e2670fcc81261"),
            ("s08:0:8", "sha256-sharded-8", "fbbef8f60a096dc71f9a4771f436ca7b458a857757340cd14d191a77108583c1"),
            ("s09:0:8", "sha256-sharded-8", "4068a6dbdacc5eac6ad392438d89c10ade8e11b6ce419ff61848787d61108d86"),
            ("s09:8:9", "sha256-sharded-8", "1f18d650d205d71d934c3646ff5fac1c096ba52eba4cf758b865364f4167d3cd"),
            ("s15:0:8", "sha256-sharded-8", "7b363fc116bdf730ed4baadfa91ab2645f2a2a887899faffe1f0388f2509d512"),
            ("s15:8:15", "sha256-sharded-8", "897f4a87c8f8ee28416788b2c8c58afc341aac8da3bcc05edb2f16c9033332fc"),
            ("s16:0:8", "sha256-sharded-8", "15f584598517115d78d6fe0a2ecbd5ad870a2c15b9f333b10cc29f9b5372d864"),
            ("s16:8:16", "sha256-sharded-8", "178b6f6034bf0d1c303e9b40b981932b1eb3912904010dccd2f538192fdac6f1"),
            ("s17:0:8", "sha256-sharded-8", "5bcc7c6117dfea054de69b22f4b445d553d42553c8ab5fa784a1e2a0715cb982"),
            ("s17:8:16", "sha256-sharded-8", "0139f71aadb35ed83851ccb9048543cb4d37493f415f99b225b7c6b28a17304b"),
            ("s17:16:17", "sha256-sharded-8", "684888c0ebb17f374298b65ee2807526c066094c701bcc7ebbe1c1095f494fc1"),
        ],
    },
    Golden {
        name: "shard_boundaries_blake2b",
        model: BOUNDARIES,
        at: ".",
        cfg: Cfg {
            hash: Blake2b,
            ..shards(8)
        },
        check: Check::Reference,
        root: "999be7059dd0324e3bbd53a87f7e0ee9fb4b59fa6cab3113bf4ab9167324f287",
        resources: &[
            ("s01:0:1", "blake2b-sharded-8", "31bb35dee26ab82ac7fec9397a56d2ae665b1132901ffc16e024211e48fb63cb2c3640acc98a2410452abad86b28ad3c6a1e2c8883de1a8267ffbfcd9c861318"),
            ("s07:0:7", "blake2b-sharded-8", "0a010e3c7beaacc9731c77e22e45aca200b3752424e1222182a081dab54cfa4c71c150ea27f25edca889e4ed280b79c1d590cdefdcde56aedf77ba3ae324438c"),
            ("s08:0:8", "blake2b-sharded-8", "8dfd9d19890f9025822f7b43b9c182d669a0ee5a397744dc55de11c4f525541d071f213f112c40b86a178f8196d53861a20918bd9e4e3dd0201a485f574135e2"),
            ("s09:0:8", "blake2b-sharded-8", "2c49419c8d92370cdc8ae9fb5fe0a8e2cb41d3e95ae93609610c83d25ef715275b2ac0447b71108c1ab4f89e9d8ca2423220b18bbcf471e4887a630d68434e53"),
            ("s09:8:9", "blake2b-sharded-8", "358d9a64f95c9b80b608d44cc89011513dfd1a42d28ee1cfc4ec86335c5568c6ae95a35819eecd8041d4c353ae2b46b1958ea6d74a490edb6527df27aac09de9"),
            ("s15:0:8", "blake2b-sharded-8", "d900ea632a0e98fa9bae692bf42cdeb6f8ff2b01e096205ed513e52b51a8fe7c03ba30048fe5c94ce7e3a1ead94209fe9018774c23f31994673af2e08c314f83"),
            ("s15:8:15", "blake2b-sharded-8", "f426188a243a33c7352ec6971eeac6156e4c904e2d79ada2930b24b449d8ce5127ceb8c059de293a74d805a7120e4fd023496bd5c192cb0e9d4cd2dcf32d831d"),
            ("s16:0:8", "blake2b-sharded-8", "d0ce67dbe5162e9fa2c22b535349583f3f10a2d62fd1f392c0c61b5a7e7915cfee70a750f4ad925508aa31acc6d24863f27b265e30ec1bbbd283b0f62d4c8289"),
            ("s16:8:16", "blake2b-sharded-8", "611c53d0cd1a91022814d29406f352e96bbdf13ff073e2c70a5322c0ee54e2a5d387df4f3370cc6567284e2fe25746aabc181fb3e084a6e6aac8cd9447b849d1"),
            ("s17:0:8", "blake2b-sharded-8", "08b06252958f522211e7bc1eb536cef02a79e8d68bab9397363e540bb8dcb460c267eb6dac6805e55253be24c17d33074e88e8478f4ab6fd54552fa5b27ae3e8"),
            ("s17:8:16", "blake2b-sharded-8", "bc2724b4495a1b5be315dd76e2fe6240d43c1e7eca1d454e9322390d4a435028a53bbcb9cc1bd8b8009687f5470079fdd1f5c8e0c0a6115d77062e9253e83580"),
            ("s17:16:17", "blake2b-sharded-8", "e00265169656be46b02e33d6b1261a2f09e372e65bfff1ebcd9480a213b1edca6c7d673643c8f03b97df79614f56f9d549521815bfee13369ff1978ea165a86b"),
        ],
    },
    Golden {
        name: "large_blake3",
        model: LARGE,
        at: ".",
        cfg: Cfg {
            hash: Blake3,
            ..FILES
        },
        check: Check::Reference,
        root: "f1516aad5d85e31d4f3a67334044f5f2b940110f76d40e81cab42f8a5ebd440b",
        resources: &[
            ("big.bin", "blake3", "f2aeb916735dabc6d1c00fe6b1eb1523836f622c33742f24f12b4522d3383cce"),
            ("mid.bin", "blake3", "319912cad2f0ced1a47db3342c1c560625d561d1751993516d8bb2f486c6fe33"),
        ],
    },
    Golden {
        name: "large_sha256_shards",
        model: LARGE,
        at: ".",
        cfg: shards(3_000_000),
        check: Check::Reference,
        root: "549dcf18fdda23eb71b259db30ef6c74a180c2c085509c2dcf78e1486c8f0414",
        resources: &[
            ("big.bin:0:3000000", "sha256-sharded-3000000", "d07862a0181eff5176d1d575e65783e1fd39ee4c3a41dd2095577d0d03428060"),
            ("big.bin:3000000:6000000", "sha256-sharded-3000000", "ea6625b467b19fc67b424bf7706d93a607dc8db5766c877c844de243cdde5030"),
            ("big.bin:6000000:8392705", "sha256-sharded-3000000", "9560c95c2f37ae5507ffb4b35bf404b42779c8db0b3bae52c458bb0fbb823af1"),
            ("mid.bin:0:1048577", "sha256-sharded-3000000", "5209f0d0cd3e2772f3d64795a89debc92de74e9155496596d229e68d176d19a1"),
        ],
    },
    Golden {
        name: "large_blake2b_shards",
        model: LARGE,
        at: ".",
        cfg: Cfg {
            hash: Blake2b,
            ..shards(1 << 20)
        },
        check: Check::Reference,
        root: "1bddba6d13ec053e9ecacce6b0471a8e163216d05f89473c08ce0d693f9721e5",
        resources: &[
            ("big.bin:0:1048576", "blake2b-sharded-1048576", "9a554a4520fcbd66be00094303816e710e4c69f17b1faa088e29b2258258bb621f5438c6766b92e65b8a719f4ff81fefffb54eb9758c4a66eda0d82350947950"),
            ("big.bin:1048576:2097152", "blake2b-sharded-1048576", "80133ccc93d2633879ec41ab2a5781b9f4db0d6debee8a1d2f9a31f37b1e2e402e36c89b776fec46099ee2ec757226ad7252d0d96461458677bf1382d4016085"),
            ("big.bin:2097152:3145728", "blake2b-sharded-1048576", "a1ed34f6a5844648d2fbb60c0649e7cc8ae114b0a2cabdeacdfccdc62c460270f5afc6feaa2c110530782b1cebb4fad3fe454594fdaa58cc5aac4b96b2956cc3"),
            ("big.bin:3145728:4194304", "blake2b-sharded-1048576", "506a27a16c7307b35837e754a6070d856808d2caaa1d4f8cb0d46d7e7c72a3af47df0e774e68ad8a46719b87ee312bd67cca758da43725a5166e08e4ed4ea771"),
            ("big.bin:4194304:5242880", "blake2b-sharded-1048576", "4171e883e4642e64f22d0793a7b71030f1b478de48a341ad89927c21328f31fc9160271683c0f229e293cc7111834253ccca37d5748fbf0c18d0954921c8a8e6"),
            ("big.bin:5242880:6291456", "blake2b-sharded-1048576", "82ee1a265953f6f7e30d7872a695337b07fd39f4c32daa4acd8b7870bd0a1e358c3a0f55b63f8eb3978f5e04c94796b0ad07ec69cea847ced2c21bf99d157652"),
            ("big.bin:6291456:7340032", "blake2b-sharded-1048576", "515891f8b0f8aff2045214827ffbe6ad4f59f4948456bcd7062726c4f5535a5240d781b6138cf51ef22ef7d195a584e57dc411a9dfe560e6570eb16d13122cf8"),
            ("big.bin:7340032:8388608", "blake2b-sharded-1048576", "c0b1fd3069f79a8ba4792d2fb185499378e20e3bf3b50181b10b981fdf4c690521346b4e4956c90331452701fa768cd2634ad397572e861e257044dba2d43c3f"),
            ("big.bin:8388608:8392705", "blake2b-sharded-1048576", "8f2e7c52fdee9008f78e08c2c0026b554def51a346544696fbb6da907af2a6122032ab72d75dffacec8b6ba2d41a2bf13eb64574e3252263dcae1b40daac42bd"),
            ("mid.bin:0:1048576", "blake2b-sharded-1048576", "4e48cee24717032242258c3859f44456a6584ef3a7f2769208c17d9f062f617d74e41ea99bdce1e13b48328556dda31a3198434f2274ecbe72aed7e9ed9c4331"),
            ("mid.bin:1048576:1048577", "blake2b-sharded-1048576", "fe178ea424c16f1719c58ca90f50e7f49c97c493b3c76f3f490966256abd2389ab1b5185d52de53b77968130a8295b4c416468d5528c96396b5abe27d8100a99"),
        ],
    },
    Golden {
        name: "git_paths_ignored_by_default",
        model: GIT,
        at: ".",
        cfg: FILES,
        check: Check::Reference,
        root: "ee9b4bc9d4eecfb7bc06df48017f7b40da6a3f8709962c9b96ee37be7e1081d1",
        resources: &[
            (".git2", "sha256", "ea56e3603dad9710072644d3277e808f4b806d55e1640510d24d0bbdecaec22c"),
            (".gitmodules", "sha256", "29b670149f182990c760b2ab6d89bdf0093c4a9816102cd7509d2ca7f69e8697"),
            ("model.bin", "sha256", "1b465fa6b6bcbc06a3199e3d2d8aec35d37494a712f888b6d5536684dd89d0f0"),
            ("sub/.git/HEAD", "sha256", "bda77d7d12a90332080071375095fb080d8cd2a6702e6ee44552863a0ca4317e"),
            ("sub/.gitignore", "sha256", "cd626bd30aa3875cc7c01d50050e4f88e84d4691457209871f27494ffd5f4ab4"),
        ],
    },
    Golden {
        name: "git_paths_included",
        model: GIT,
        at: ".",
        cfg: Cfg {
            git: false,
            ..FILES
        },
        check: Check::Reference,
        root: "2e96f426eb30ab5bb0c72a8d8c4a99517a298b67943cf9c6166279a263e9483f",
        resources: &[
            (".git/HEAD", "sha256", "28d25bf82af4c0e2b72f50959b2beb859e3e60b9630a5e8c603dad4ddb2b6e80"),
            (".git/objects/ab/cdef", "sha256", "eab32d918fc1c07d87eddb59a45086666f9117538d6d9c40ee0efeda635bd330"),
            (".git2", "sha256", "ea56e3603dad9710072644d3277e808f4b806d55e1640510d24d0bbdecaec22c"),
            (".gitattributes", "sha256", "86266214dfd066dbd4d776951ab1a676ed6f3f6af050e020eac5a8b21b7e5245"),
            (".github/workflows/ci.yml", "sha256", "b602f7ad4316adfd9f3e5ca998773702a5db1a1f1599a14516f40101665fb6d2"),
            (".gitignore", "sha256", "44c92e3a70ad3307b7056871c2bdb096d8bfa9373f5bf06a79bb6324a20ff2fb"),
            (".gitmodules", "sha256", "29b670149f182990c760b2ab6d89bdf0093c4a9816102cd7509d2ca7f69e8697"),
            ("model.bin", "sha256", "1b465fa6b6bcbc06a3199e3d2d8aec35d37494a712f888b6d5536684dd89d0f0"),
            ("sub/.git/HEAD", "sha256", "bda77d7d12a90332080071375095fb080d8cd2a6702e6ee44552863a0ca4317e"),
            ("sub/.gitignore", "sha256", "cd626bd30aa3875cc7c01d50050e4f88e84d4691457209871f27494ffd5f4ab4"),
        ],
    },
    Golden {
        name: "user_ignores",
        model: IGNORES,
        at: ".",
        cfg: Cfg {
            ignores: &["d", "e/f", "single.txt", "not-there"],
            ..FILES
        },
        check: Check::Reference,
        root: "8bcf0871b5dc27448eda82602ccfe12288c04d028d80b098ad9633c81ce4ffe2",
        resources: &[
            ("d2", "sha256", "c66169a0e4913133cbebf50c3f71dabef7540b9a636cde9c80be6e39f7113fa5"),
            ("dd/x", "sha256", "62bd93b5dde7075b73d82f12ab915c562e2708c771fbf25ea22973820d67bf01"),
            ("e/f2", "sha256", "eefea83d12037f51c1f1619094ac0290aa6bc861b9d24806391cdf8b8f551cc1"),
            ("e/g/f", "sha256", "e6ceaaab68b885ee250c4096c61fb106630f0329a1ccb9acab9594bedbb9b345"),
            ("keep", "sha256", "f660a7996deacfbc7560e4240054a8ad82eb02fe25a95064257e07084bcacb85"),
        ],
    },
    Golden {
        name: "user_ignores_shards_without_git",
        model: IGNORES,
        at: ".",
        cfg: Cfg {
            ignores: &["d2", "e"],
            git: false,
            ..shards(3)
        },
        check: Check::Reference,
        root: "267210b554a28ccadd4aeb2429395cea9ab1a04a24cd7f8e65096b8af1385d96",
        resources: &[
            ("d/x:0:3", "sha256-sharded-3", "4aefa7ecdcdf90ce93a0bd2d69088f05fde22796806d2e224ca2fb84e3d7eda6"),
            ("d/y/z:0:3", "sha256-sharded-3", "5b82f0ed7ad205f5b57479c2849f94a96d6ff6957fed60bfbaf7ae42090a3126"),
            ("d/y/z:3:4", "sha256-sharded-3", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("dd/x:0:3", "sha256-sharded-3", "957458321b46aed819a341f38ba60c007512952db2d1a41d1bb7766ffefd184d"),
            ("dd/x:3:4", "sha256-sharded-3", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
            ("keep:0:3", "sha256-sharded-3", "2bce189a88f21ae3c9f4e0b6aed0893dd02a34f384cc7a726494bb56c796358f"),
            ("keep:3:5", "sha256-sharded-3", "fd6641673e7f3bf6e80e4bc5401fcb2821a1e117206c8e1c65cef23a58dc37ff"),
            ("single.txt:0:3", "sha256-sharded-3", "cccc68c7928e63feb966db96210f5f3b085f371800b6341b27001f8374076f2b"),
            ("single.txt:3:6", "sha256-sharded-3", "19f2e5dee846cbd7accca80c83f769d456eab4aca0908fb37b5b3fe3e16f96b5"),
            ("single.txt:6:7", "sha256-sharded-3", "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b"),
        ],
    },
    Golden {
        name: "symlinks_to_files",
        model: FILE_LINKS,
        at: ".",
        cfg: Cfg {
            symlinks: true,
            ..FILES
        },
        check: Check::Reference,
        root: "9951dbb352ef0206123f5ae9151635233c4b5e8de36fab6c6ca61b2c78181a69",
        resources: &[
            ("chain.bin", "sha256", "96d92a2a75035985dc51605d4b5610062e6279a72635a2dabee89b1e5e166252"),
            ("link.bin", "sha256", "96d92a2a75035985dc51605d4b5610062e6279a72635a2dabee89b1e5e166252"),
            ("out.bin", "sha256", "9fdcd6b942df4551ce04bb8d61b719d14e931c024585fa57bbe07ac14f1514db"),
            ("sub/up.bin", "sha256", "96d92a2a75035985dc51605d4b5610062e6279a72635a2dabee89b1e5e166252"),
            ("target.bin", "sha256", "96d92a2a75035985dc51605d4b5610062e6279a72635a2dabee89b1e5e166252"),
        ],
    },
    Golden {
        name: "symlinks_to_files_shards",
        model: FILE_LINKS,
        at: ".",
        cfg: Cfg {
            symlinks: true,
            ..shards(5)
        },
        check: Check::Reference,
        root: "dd5dcad888c832b099ad84619e8e31a80809d6e3a38e04279f61a20479c58c0b",
        resources: &[
            ("chain.bin:0:5", "sha256-sharded-5", "e3910e9ef27ff47690308ba870d64da0710521d3f1b2faf2a4495a76fce47b94"),
            ("chain.bin:5:10", "sha256-sharded-5", "44ea5585fd6e48f10398449d3fb67e0b98f46a1fd56805e8cc23e354efa53dd9"),
            ("chain.bin:10:15", "sha256-sharded-5", "2eade26fcd47184e06fb2d705fd0e26a87742edaaa02b97fd41e6e2c181935b4"),
            ("link.bin:0:5", "sha256-sharded-5", "e3910e9ef27ff47690308ba870d64da0710521d3f1b2faf2a4495a76fce47b94"),
            ("link.bin:5:10", "sha256-sharded-5", "44ea5585fd6e48f10398449d3fb67e0b98f46a1fd56805e8cc23e354efa53dd9"),
            ("link.bin:10:15", "sha256-sharded-5", "2eade26fcd47184e06fb2d705fd0e26a87742edaaa02b97fd41e6e2c181935b4"),
            ("out.bin:0:5", "sha256-sharded-5", "944b898688679d4d4968bf4cecc31094c5b46f8078c10f1a8a44de1124c5153d"),
            ("out.bin:5:10", "sha256-sharded-5", "754e259cff0b6db8f064d7825a45f2cf44bba6824d0530c49dff8df773cd8c96"),
            ("out.bin:10:15", "sha256-sharded-5", "5e50862f79497876ce9bb41cef279542f94d1815c7e9031fb76092eb42f18204"),
            ("out.bin:15:18", "sha256-sharded-5", "ef83e2720995b1a2c0076ff26fa7e41bc3ef4902d975c57ea91ba34ad5fa25c0"),
            ("sub/up.bin:0:5", "sha256-sharded-5", "e3910e9ef27ff47690308ba870d64da0710521d3f1b2faf2a4495a76fce47b94"),
            ("sub/up.bin:5:10", "sha256-sharded-5", "44ea5585fd6e48f10398449d3fb67e0b98f46a1fd56805e8cc23e354efa53dd9"),
            ("sub/up.bin:10:15", "sha256-sharded-5", "2eade26fcd47184e06fb2d705fd0e26a87742edaaa02b97fd41e6e2c181935b4"),
            ("target.bin:0:5", "sha256-sharded-5", "e3910e9ef27ff47690308ba870d64da0710521d3f1b2faf2a4495a76fce47b94"),
            ("target.bin:5:10", "sha256-sharded-5", "44ea5585fd6e48f10398449d3fb67e0b98f46a1fd56805e8cc23e354efa53dd9"),
            ("target.bin:10:15", "sha256-sharded-5", "2eade26fcd47184e06fb2d705fd0e26a87742edaaa02b97fd41e6e2c181935b4"),
        ],
    },
    Golden {
        name: "symlinks_to_dirs",
        model: DIR_LINKS,
        at: ".",
        cfg: Cfg {
            symlinks: true,
            ..FILES
        },
        check: Check::Dereferenced(
            "the reference skips links to directories silently",
        ),
        root: "1436517c0b902e6d1a1a21da358cc252a301ec684ecc7723bfba926533c9c38f",
        resources: &[
            ("d/x", "sha256", "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"),
            ("d/y/z", "sha256", "c865f6c5ab8d1b0bcd383a5e1e3879d22681c96bf462c269b7581d523fbe70ab"),
            ("ld/x", "sha256", "73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"),
            ("ld/y/z", "sha256", "c865f6c5ab8d1b0bcd383a5e1e3879d22681c96bf462c269b7581d523fbe70ab"),
            ("lo/w", "sha256", "46f6b12caa6da585a0ba991bddf14a15d27820566892834c493a7aea62002d72"),
            ("sub/up/z", "sha256", "c865f6c5ab8d1b0bcd383a5e1e3879d22681c96bf462c269b7581d523fbe70ab"),
        ],
    },
    Golden {
        name: "ignored_link_not_examined",
        model: IGNORED_LINK,
        at: ".",
        cfg: Cfg {
            ignores: &["ign"],
            ..FILES
        },
        check: Check::Dereferenced(
            "the reference examines every path for links before it applies the ignore rules, so it refuses `ign/l` although it is ignored",
        ),
        root: "697e3de4676f45791523fe1933c6d6ea69e54186cd13b58718f2e1b5d908bae1",
        resources: &[
            ("keep", "sha256", "f660a7996deacfbc7560e4240054a8ad82eb02fe25a95064257e07084bcacb85"),
        ],
    },
    Golden {
        name: "model_path_is_a_link",
        model: MODEL_LINK,
        at: "lm",
        cfg: FILES,
        check: Check::Dereferenced(
            "the reference refuses a link given as the model path unless symlinks are allowed; we follow it, as it only names the model",
        ),
        root: "2143e8af34b7d34c7a3f068fa648c9b1004791bdf7725aa24c7437f5ae8cb79f",
        resources: &[
            ("a", "sha256", "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"),
            ("b/c", "sha256", "a3a5e715f0cc574a73c3f9bebb6bc24f32ffd5b67b387244c2c909da779a1478"),
        ],
    },
    Golden {
        name: "single_file_via_link",
        model: MODEL_LINK,
        at: "lf",
        cfg: FILES,
        check: Check::Dereferenced(
            "the reference refuses a link given as the model path unless symlinks are allowed; we follow it, as it only names the model",
        ),
        root: "225f1bbbc4b1a3d97c622a492d91ea8d6858d7e1164bbbb5953f74311d6d222e",
        resources: &[
            (".", "sha256", "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"),
        ],
    },
];

fn hex_of(resources: &[(String, String, String)]) -> String {
    let digests: Vec<Vec<u8>> = resources
        .iter()
        .map(|(_, _, h)| hex::decode(h).expect("hex digest"))
        .collect();
    hex::encode(root_digest(digests.iter().map(Vec::as_slice)))
}

fn expected(row: &Golden) -> Vec<(String, String, String)> {
    row.resources
        .iter()
        .map(|&(n, a, d)| (n.to_owned(), a.to_owned(), d.to_owned()))
        .collect()
}

fn target(model: &Path, row: &Golden) -> PathBuf {
    if row.at == "." {
        model.to_owned()
    } else {
        model.join(row.at)
    }
}

/// Our engine on a model: (root hex, resources).
fn ours(path: &Path, config: &HashConfig) -> (String, Vec<(String, String, String)>) {
    let resources = hash_model(path, config, &NoProgress)
        .unwrap_or_else(|e| panic!("hashing {} failed: {e}", path.display()));
    let algorithm = config.resource_algorithm();
    let root = hex::encode(root_digest(resources.iter().map(|r| r.digest.as_slice())));
    let rows = resources
        .iter()
        .map(|r| (r.key.to_string(), algorithm.clone(), hex::encode(&r.digest)))
        .collect();
    (root, rows)
}

fn row_literal(root: &str, resources: &[(String, String, String)]) -> String {
    let mut s = format!("        root: {root:?},\n        resources: &[\n");
    for (n, a, d) in resources {
        s.push_str(&format!("            ({n:?}, {a:?}, {d:?}),\n"));
    }
    s.push_str("        ],\n");
    s
}

#[test]
fn table_is_well_formed() {
    let mut names: Vec<&str> = GOLDEN.iter().map(|r| r.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "row names are unique");
    for row in GOLDEN {
        assert!(!row.resources.is_empty(), "{}: no resources", row.name);
        if let Check::Dereferenced(why) = row.check {
            assert!(!why.is_empty(), "{}: say why it is dereferenced", row.name);
        }
        assert_eq!(
            hex_of(&expected(row)),
            row.root,
            "{}: the root is not SHA-256 over the listed digests",
            row.name
        );
        let algorithm = row.cfg.config().resource_algorithm();
        for (n, a, d) in row.resources {
            assert_eq!(*a, algorithm, "{}: {n}", row.name);
            assert_eq!(d.len(), 2 * row.cfg.hash.digest_len(), "{}: {n}", row.name);
        }
    }
}

#[test]
fn engine_reproduces_golden_table() {
    let mut failures = Vec::new();
    for row in GOLDEN {
        let tmp = tempfile::tempdir().expect("tempdir");
        let model = support::build(tmp.path(), row.model);
        let (root, resources) = ours(&target(&model, row), &row.cfg.config());
        if root != row.root || resources != expected(row) {
            failures.push(format!(
                "{}: the engine gives\n{}",
                row.name,
                row_literal(&root, &resources)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reference_reproduces_golden_table() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut jobs = Vec::new();
    for (i, row) in GOLDEN.iter().enumerate() {
        let base = tmp.path().join(i.to_string());
        let mut model = support::build(&base, row.model);
        if let Check::Dereferenced(_) = row.check {
            let copy = base.join("dereferenced");
            support::copy_dereferenced(&model, &copy);
            model = copy;
        }
        jobs.push((target(&model, row), row.cfg.config()));
    }
    let results = support::reference_hash(&jobs);
    let mut failures = Vec::new();
    for ((row, result), (_, config)) in GOLDEN.iter().zip(results).zip(&jobs) {
        let got = match result {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: the reference failed: {e}", row.name));
                continue;
            }
        };
        if got.root != row.root || got.resources != expected(row) {
            let note = match row.check {
                Check::Reference => String::new(),
                Check::Dereferenced(why) => {
                    format!(" (on a copy with links dereferenced, because {why})")
                }
            };
            failures.push(format!(
                "{}: the reference gives{note}\n{}",
                row.name,
                row_literal(&got.root, &got.resources)
            ));
        }
        let ours = support::RefSerialization::of(config);
        if got.serialization != ours {
            failures.push(format!(
                "{}: the reference records {:?}, we would record {ours:?}",
                row.name, got.serialization
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Shards of one file are ordered by their numeric offset, not by name:
/// `a:4:8` comes before `a:12:16` (as text it would come after).
#[test]
fn shards_sort_numerically() {
    let row = GOLDEN
        .iter()
        .find(|r| r.name == "many_shards")
        .expect("many_shards row");
    let names: Vec<&str> = row.resources.iter().map(|r| r.0).collect();
    let pos = |n: &str| {
        names
            .iter()
            .position(|x| *x == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    assert!(pos("a:4:8") < pos("a:12:16"));
    assert!(pos("a:8:12") < pos("a:40:44"));
    assert!(pos("a:48:50") < pos("a.b:0:4"));
    assert!(names.len() > 10 + 3 + 11);
}
