//! `model-signing` under faults, run as a user would run it:
//!
//! - killed (SIGKILL) while hashing, and around the signature write: the old
//!   signature is kept byte for byte or replaced by a complete one, and
//!   nothing else is left behind (a temporary file a kill leaves is removed
//!   by the next `sign`);
//! - a full disk and a failing write: a clear error naming the signature
//!   path, exit 3, the old signature untouched, no temporary file;
//! - two signers writing one signature at once: one complete bundle that
//!   verifies;
//! - unreadable files and directories (as root too): exit 3 naming the path;
//! - 100,000 small files and a 200-level tree: hashed within bounded memory,
//!   to the digest the test computes on its own.
//!
//! Linux only: progress and memory are read from `/proc`.

use testkit::skip_support;
use testkit::Run;

use testkit as support;

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use model_signing::keys::KeyAlgorithm;
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_model-signing");

fn output(cmd: &mut Command) -> Run {
    let out = cmd
        .stdin(Stdio::null())
        .env_remove("MODEL_SIGNING_PASSWORD")
        .output()
        .expect("model-signing runs");
    Run::from(out)
}

fn s(p: &Path) -> &str {
    support::path_str(p)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The temporary files of a signature write to `model.sig`.
fn temps(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.starts_with(".model.sig."))
        .collect()
}

/// A P-256 key pair written as `NAME.pem` and `NAME.pub` in `dir`.
struct KeyPair {
    private: PathBuf,
    public: PathBuf,
}

impl KeyPair {
    fn new(dir: &Path, name: &str) -> Self {
        let key = support::key(KeyAlgorithm::EcdsaP256Sha256);
        let private = dir.join(format!("{name}.pem"));
        let public = dir.join(format!("{name}.pub"));
        fs::write(&private, key.to_pkcs8_pem().as_bytes()).expect("write key");
        fs::write(&public, support::public(&key).to_pem()).expect("write public key");
        KeyPair { private, public }
    }

    fn sign(&self, model: &Path, sig: &Path) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(["sign", "key", s(model), "--private-key", s(&self.private)])
            .args(["--signature", s(sig)])
            .stdin(Stdio::null())
            .env_remove("MODEL_SIGNING_PASSWORD");
        cmd
    }

    fn verify(&self, model: &Path, sig: &Path) -> Run {
        output(Command::new(BIN).args([
            "verify",
            "key",
            s(model),
            "--public-key",
            s(&self.public),
            "--signature",
            s(sig),
        ]))
    }
}

fn assert_ok(r: &Run) {
    assert_eq!(r.code, 0, "{r:?}");
}

fn killed(status: ExitStatus) -> bool {
    status.signal() == Some(9)
}

/// SIGKILLs the child (if it still runs) and reaps it.
fn kill(child: &mut Child) -> ExitStatus {
    let _ = child.kill();
    child.wait().expect("wait")
}

/// Bytes the process has read so far (`rchar` of `/proc/PID/io`), or `None`
/// once it is gone.
fn bytes_read(pid: u32) -> Option<u64> {
    let io = fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
}

// -------------------------------------------------------------- SIGKILL

/// Writes a model of `files` files of `mib` MiB each (different content).
fn big_model(dir: &Path, files: usize, mib: usize) -> PathBuf {
    let model = dir.join("model");
    fs::create_dir_all(&model).expect("mkdir");
    let block = support::pattern(1 << 20, 0);
    for i in 0..files {
        let mut f = fs::File::create(model.join(format!("part-{i}.bin"))).expect("create");
        for j in 0..mib {
            f.write_all(&[
                u8::try_from(i).expect("few files"),
                u8::try_from(j % 256).expect("byte"),
            ])
            .expect("write");
            f.write_all(&block[2..]).expect("write");
        }
    }
    model
}

/// Killed while it hashes (at 10%, 50% and 90% of the model read, as the
/// kernel counts the bytes it read), `sign` leaves the old signature byte for
/// byte and no other file: no temporary file exists before hashing ends.
/// The killed signer uses another key than the old signature, so that its
/// signature, had it been written, would differ.
#[test]
fn sigkill_while_hashing_keeps_the_old_signature() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let old_key = KeyPair::new(tmp.path(), "old");
    let new_key = KeyPair::new(tmp.path(), "new");
    let model = big_model(tmp.path(), 4, 48);
    let total: u64 = (4 * 48) << 20;
    // The signature inside the model: a leftover there would also break
    // verification of the old signature.
    let sig = model.join("model.sig");
    assert_ok(&output(&mut old_key.sign(&model, &sig)));
    let old = fs::read(&sig).expect("read signature");
    let before = listing(&model);

    for percent in [10, 50, 90] {
        let mut child = new_key
            .sign(&model, &sig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sign");
        let pid = child.id();
        let target = total * percent / 100;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match bytes_read(pid) {
                Some(n) if n >= target => break,
                Some(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200))
                }
                _ => panic!(
                    "sign did not reach {percent}% of the model: {:?}",
                    kill(&mut child)
                ),
            }
        }
        let status = kill(&mut child);
        assert!(killed(status), "at {percent}%: sign ended first: {status}");
        assert!(
            fs::read(&sig).expect("read signature") == old,
            "killed at {percent}% of hashing, the signature changed"
        );
        assert_eq!(listing(&model), before, "killed at {percent}% of hashing");
    }
    assert_ok(&old_key.verify(&model, &sig));
}

/// Kills `sign` at moments spread over its whole run, and also as soon as
/// its temporary file appears. Every time the signature is the previous one
/// byte for byte or a complete new one that verifies; a temporary file left
/// by a kill during the write is the only other file that may appear, and
/// the next `sign` removes it. Two keys take turns, so that a new signature
/// differs from the previous one (signatures are deterministic).
#[test]
fn sigkill_around_the_write_never_leaves_a_partial_signature() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = [KeyPair::new(tmp.path(), "a"), KeyPair::new(tmp.path(), "b")];
    let model = support::rich_model(tmp.path());
    let out = tmp.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    let sig = out.join("model.sig");

    // How long a whole run takes here.
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        assert_ok(&output(&mut keys[0].sign(&model, &sig)));
        times.push(start.elapsed());
    }
    times.sort();
    let run_time = times[1];
    let mut current = 0;

    let (mut kept, mut replaced, mut finished, mut left) = (0, 0, 0, 0);
    let rounds = 30;
    for round in 0..rounds {
        let previous = fs::read(&sig).expect("read signature");
        let next = 1 - current;
        let mut child = keys[next]
            .sign(&model, &sig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sign");
        if round % 3 == 0 {
            // As soon as the temporary file shows (or the run ends).
            let deadline = Instant::now() + Duration::from_secs(30);
            while temps(&out).is_empty()
                && child.try_wait().expect("try_wait").is_none()
                && Instant::now() < deadline
            {
                std::hint::spin_loop();
            }
        } else {
            // At 20% to 200% of a typical run.
            std::thread::sleep(run_time * (20 + 180 * round / rounds) / 100);
        }
        if !killed(kill(&mut child)) {
            finished += 1;
        }

        if fs::read(&sig).expect("read signature") == previous {
            kept += 1;
        } else {
            replaced += 1;
            assert_ok(&keys[next].verify(&model, &sig));
            current = next;
        }
        let leftovers = temps(&out);
        let expected = format!(".model.sig.tmp-{}-", child.id());
        assert!(
            leftovers.iter().all(|n| n.starts_with(&expected)) && leftovers.len() <= 1,
            "round {round}: unexpected files {leftovers:?}"
        );
        if !leftovers.is_empty() {
            left += 1;
            // The next sign removes it.
            assert_ok(&output(&mut keys[current].sign(&model, &sig)));
            assert!(temps(&out).is_empty(), "round {round}: leftover kept");
        }
        assert_eq!(listing(&out), ["model.sig"], "round {round}");
    }
    eprintln!(
        "{rounds} runs ({finished} not killed): signature kept {kept}, replaced {replaced}; \
         temporary file left by the kill (and removed by the next sign) {left}"
    );
}

/// A temporary file left inside the model by a killed signer is removed by
/// the next `sign` before it hashes, so it is neither signed nor left to
/// make the verification of the new signature fail. One whose process still
/// runs is another signer's write in progress: it is kept and not hashed,
/// and verification reports it while it is there.
#[test]
fn leftover_temporary_files_are_removed_or_left_out() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = KeyPair::new(tmp.path(), "key");
    let model = support::small_model(tmp.path());
    let sig = model.join("model.sig");
    // What a process killed during its write leaves, named after a process
    // that does not run: no process id reaches `pid_max`.
    let pid_max = fs::read_to_string("/proc/sys/kernel/pid_max").expect("read pid_max");
    let stale = model.join(format!(".model.sig.tmp-{}-123456789", pid_max.trim()));
    fs::write(&stale, b"{\"partial\": ").expect("write");
    // The file of a write in progress: its process (this one) runs.
    let live = model.join(format!(".model.sig.tmp-{}-1", std::process::id()));
    fs::write(&live, b"{\"mediaType\": ").expect("write");
    // A file of the model that only looks alike.
    let other = model.join(".model.sig.tmp-notapid");
    fs::write(&other, b"x").expect("write");

    assert_ok(&output(&mut keys.sign(&model, &sig)));
    assert!(!stale.exists(), "the leftover was kept");
    assert!(live.exists() && other.exists());
    let inspect = output(Command::new(BIN).args(["inspect", "--json", s(&sig)]));
    assert_ok(&inspect);
    let names: Vec<String> = serde_json::from_str::<serde_json::Value>(&inspect.stdout)
        .expect("JSON")["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(
        names,
        [".model.sig.tmp-notapid", "a.bin", "b.bin", "sub/c.txt"]
    );
    let live_name = live
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let r = keys.verify(&model, &sig);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains(&live_name), "{r:?}");
    fs::remove_file(&live).expect("rm");
    assert_ok(&keys.verify(&model, &sig));
}

// ------------------------------------------------------------ full disk

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, options: &str) -> Result<Self, String> {
        fs::create_dir_all(at).expect("mkdir mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs", s(at)])
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Mount(at.to_owned()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Fills the file system holding `dir` with one file.
fn fill(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let mut f = fs::File::create(&filler).expect("create filler");
    let chunk = vec![0u8; 4096];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    filler
}

/// A full file system: `sign` fails after hashing with an error naming the
/// signature and the cause, exits 3, and leaves the old signature and no
/// temporary file. Needs a tmpfs mount (root); skipped, saying so, where
/// mounting is not allowed.
#[test]
fn a_full_disk_fails_cleanly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = KeyPair::new(tmp.path(), "key");
    let model = support::rich_model(tmp.path());
    let disk = tmp.path().join("disk");
    let mount = match Mount::tmpfs(&disk, "size=256k,nr_inodes=64") {
        Ok(m) => m,
        Err(why) => {
            skip_support::prerequisite_missing(
                "a_full_disk_fails_cleanly",
                &format!("cannot mount a small tmpfs here ({why})"),
            );
            return;
        }
    };
    let sig = disk.join("model.sig");
    assert_ok(&output(&mut keys.sign(&model, &sig)));
    let old = fs::read(&sig).expect("read");

    // No space left for data.
    let filler = fill(&disk);
    let r = output(&mut keys.sign(&model, &sig));
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        support::contains_all(
            &r.stderr,
            &["cannot write the signature to", s(&sig), "No space left"]
        ),
        "{r:?}"
    );
    assert_eq!(fs::read(&sig).expect("read"), old);
    assert_eq!(listing(&disk), ["filler", "model.sig"]);

    // No inode left: refused before hashing (the model holds a FIFO, which
    // hashing would refuse with its own error).
    fs::remove_file(&filler).expect("rm filler");
    let mut n = 0;
    while fs::write(disk.join(format!("i{n}")), b"").is_ok() {
        n += 1;
    }
    let fifo_model = tmp.path().join("fifo-model");
    fs::create_dir(&fifo_model).expect("mkdir");
    fs::write(fifo_model.join("a"), b"a").expect("write");
    let status = Command::new("mkfifo")
        .arg(fifo_model.join("pipe"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let r = output(&mut keys.sign(&fifo_model, &sig));
    assert_eq!(r.code, 3, "{r:?}");
    assert!(!r.stderr.contains("FIFO"), "hashing started: {r:?}");
    assert!(
        support::contains_all(
            &r.stderr,
            &["cannot write the signature to", s(&sig), "No space left"]
        ),
        "{r:?}"
    );
    assert_eq!(fs::read(&sig).expect("read"), old);

    // With space again, signing works and leaves only the signature.
    for i in 0..n {
        fs::remove_file(disk.join(format!("i{i}"))).expect("rm");
    }
    assert_ok(&output(&mut keys.sign(&model, &sig)));
    assert_ok(&keys.verify(&model, &sig));
    assert_eq!(listing(&disk), ["model.sig"]);
    drop(mount);
}

/// A write that fails (here: the file size limit, `ulimit -f`, with SIGXFSZ
/// ignored, so the write returns EFBIG): runs everywhere, no mount needed.
#[test]
fn a_failing_signature_write_is_reported_with_the_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = KeyPair::new(tmp.path(), "key");
    let model = support::rich_model(tmp.path());
    let sig = tmp.path().join("model.sig");
    assert_ok(&output(&mut keys.sign(&model, &sig)));
    let old = fs::read(&sig).expect("read");
    assert!(old.len() > 2048, "the bundle must exceed the limit");
    let before = listing(tmp.path());

    let sign = keys.sign(&model, &sig);
    let args: Vec<&OsStr> = sign.get_args().collect();
    // `ulimit -f 1`: 512 or 1024 bytes, depending on the shell.
    let r = output(
        Command::new("sh")
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 1 && exec \"$@\"")
            .arg("sh")
            .arg(BIN)
            .args(args),
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        support::contains_all(
            &r.stderr,
            &["cannot write the signature to", s(&sig), "File too large"]
        ),
        "{r:?}"
    );
    assert_eq!(fs::read(&sig).expect("read"), old);
    assert_eq!(listing(tmp.path()), before, "no temporary file is left");
    assert_ok(&keys.verify(&model, &sig));
}

/// A signature path that names a FIFO or a device (or a link to one) is
/// refused before hashing, and the node is left alone: the atomic write
/// used to rename a regular file over it (for root, `--signature /dev/full`
/// or `/dev/stdout` would have replaced the node or link in `/dev`).
#[test]
fn a_special_file_as_the_signature_is_refused_and_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = KeyPair::new(tmp.path(), "key");
    let model = support::small_model(tmp.path());
    // Hashing this model would fail on its FIFO, with its own message.
    let status = Command::new("mkfifo")
        .arg(model.join("pipe"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let fifo = tmp.path().join("fifo.sig");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let mut dests = vec![fifo];
    // A copy of /dev/full (char 1:7), where device nodes can be made.
    let full = tmp.path().join("full");
    if Command::new("mknod")
        .arg(&full)
        .args(["c", "1", "7"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        dests.push(full);
    } else {
        eprintln!("cannot create a device node here; checking the FIFO only");
    }
    // And a link to one.
    let link = tmp.path().join("link.sig");
    std::os::unix::fs::symlink(&dests[0], &link).expect("symlink");
    dests.push(link);
    for dest in dests {
        let r = output(&mut keys.sign(&model, &dest));
        assert_eq!(r.code, 3, "{}: {r:?}", dest.display());
        assert!(
            support::contains_all(
                &r.stderr,
                &[
                    "cannot write the signature to",
                    s(&dest),
                    "not a regular file"
                ]
            ),
            "{r:?}"
        );
        assert!(
            !r.stderr.contains("is a FIFO, not"),
            "hashing started: {r:?}"
        );
        let ft = fs::metadata(&dest).expect("stat").file_type();
        assert!(
            ft.is_fifo() || ft.is_char_device(),
            "{} was replaced",
            dest.display()
        );
    }
}

// ------------------------------------------------- concurrent signers

/// Starts four signers (two keys, taking turns) writing the same signature
/// at once; returns their results.
fn sign_concurrently(keys: &[KeyPair; 2], model: &Path, sig: &Path) -> Vec<std::process::Output> {
    let children: Vec<Child> = [0, 1, 0, 1]
        .iter()
        .map(|&k| {
            keys[k]
                .sign(model, sig)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start sign")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect()
}

/// Four signers (two keys) writing one signature at once, several times,
/// with the signature beside the model and inside it: all succeed, and the
/// signature is one complete bundle that verifies with exactly one of the
/// keys; nothing else is left. Inside the model, each signer's temporary
/// file briefly lies in the model the others hash: they leave it out (it
/// used to be signed as a file of the model, and the signature then failed
/// to verify once it was gone, or a signer failed reading it).
#[test]
fn concurrent_signers_leave_one_valid_bundle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = [KeyPair::new(tmp.path(), "a"), KeyPair::new(tmp.path(), "b")];
    let model = support::rich_model(tmp.path());
    let out = tmp.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    let before = listing(&model);
    for round in 0..10 {
        let inside = round % 2 == 1;
        let sig = if inside {
            model.join("model.sig")
        } else {
            out.join("model.sig")
        };
        for o in sign_concurrently(&keys, &model, &sig) {
            assert!(
                o.status.success(),
                "round {round}: a signer failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let by_a = keys[0].verify(&model, &sig);
        let by_b = keys[1].verify(&model, &sig);
        assert!(
            (by_a.code == 0) != (by_b.code == 0),
            "round {round}: the signature verifies with neither or both keys:\n{by_a:?}\n{by_b:?}"
        );
        if inside {
            fs::remove_file(&sig).expect("rm");
        } else {
            assert_eq!(listing(&out), ["model.sig"], "round {round}");
        }
        assert_eq!(listing(&model), before, "round {round}");
    }
}

// --------------------------------------------------- unreadable paths

/// Runs `model-signing ARGS` with permission bits applying: directly when
/// they already apply to this process, else (root) with CAP_DAC_OVERRIDE and
/// CAP_DAC_READ_SEARCH dropped by `setpriv`. `None` where neither works.
fn run_without_dac_override(args: &[&str]) -> Option<Run> {
    let probe = tempfile::NamedTempFile::new().expect("probe");
    fs::set_permissions(probe.path(), fs::Permissions::from_mode(0o000)).expect("chmod");
    if fs::File::open(probe.path()).is_err() {
        return Some(output(Command::new(BIN).args(args)));
    }
    match Command::new("setpriv")
        .arg("--bounding-set=-dac_override,-dac_read_search")
        .arg("true")
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(_) => return None,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run setpriv: {e}"),
    }
    Some(output(
        Command::new("setpriv")
            .arg("--bounding-set=-dac_override,-dac_read_search")
            .arg(BIN)
            .args(args),
    ))
}

#[test]
fn unreadable_file_and_directory_are_reported_by_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let keys = KeyPair::new(tmp.path(), "key");
    let model = support::small_model(tmp.path());
    let sig = tmp.path().join("model.sig");
    assert_ok(&output(&mut keys.sign(&model, &sig)));
    let old = fs::read(&sig).expect("read");

    let secret = model.join("a.bin");
    let locked = model.join("sub");
    for (path, restore) in [(&secret, 0o644), (&locked, 0o755)] {
        fs::set_permissions(path, fs::Permissions::from_mode(0o000)).expect("chmod");
        let commands: [Vec<&str>; 3] = [
            vec!["digest", s(&model)],
            vec![
                "sign",
                "key",
                s(&model),
                "--private-key",
                s(&keys.private),
                "--signature",
                s(&sig),
            ],
            vec![
                "verify",
                "key",
                s(&model),
                "--public-key",
                s(&keys.public),
                "--signature",
                s(&sig),
            ],
        ];
        for args in commands {
            let Some(r) = run_without_dac_override(&args) else {
                skip_support::prerequisite_missing(
                    "unreadable_file_and_directory_are_reported_by_path",
                    "permission bits are bypassed here (root) and setpriv cannot drop that",
                );
                fs::set_permissions(path, fs::Permissions::from_mode(restore)).expect("chmod");
                return;
            };
            assert_eq!(r.code, 3, "{args:?}: {r:?}");
            assert!(
                support::contains_all(&r.stderr, &[s(path), "Permission denied"]),
                "{args:?}: {r:?}"
            );
            assert_eq!(fs::read(&sig).expect("read"), old, "{args:?}");
        }
        fs::set_permissions(path, fs::Permissions::from_mode(restore)).expect("chmod");
    }
    assert_ok(&keys.verify(&model, &sig));
}

// ---------------------------------------------------- large trees

/// Peak resident memory of a running process (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Runs `model-signing digest --json MODEL` and returns its output and its
/// peak resident memory. The peak is read once the first bytes of output
/// arrive: the JSON document is built before it is written, and it is far
/// larger than a pipe holds, so the process cannot have ended yet and has
/// done all its work but the rest of the write.
fn digest_json_with_peak(model: &Path, threads: &str) -> (serde_json::Value, u64) {
    let mut child = Command::new(BIN)
        .args(["digest", "--json", "--threads", threads, s(model)])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start digest");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    let n = stdout.read(&mut first).expect("read");
    assert_eq!(
        n,
        1,
        "digest printed nothing: {:?}",
        child.wait_with_output()
    );
    let peak = peak_rss(child.id()).expect("read /proc/PID/status of the running digest");
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).expect("read");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = first.to_vec();
    all.extend(rest);
    assert!(all.len() > 1 << 20, "the output must not fit in a pipe");
    (serde_json::from_slice(&all).expect("JSON output"), peak)
}

/// The digest `digest` should print, computed here from the contents alone:
/// SHA-256 over the files' SHA-256 digests in path order (component by
/// component, by code point).
fn expected_digest(files: &[(Vec<String>, Vec<u8>)]) -> String {
    let mut sorted: Vec<&(Vec<String>, Vec<u8>)> = files.iter().collect();
    sorted.sort_by(|x, y| x.0.cmp(&y.0));
    let mut root = Sha256::new();
    for (_, content) in sorted {
        root.update(Sha256::digest(content));
    }
    format!("sha256:{}", hex::encode(root.finalize()))
}

const MEMORY_BOUND: u64 = 200 << 20;

/// A temporary directory in memory (`/dev/shm`) where there is one: making
/// and removing 100,000 files on a disk can take minutes.
fn memory_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::tempdir().expect("tempdir")
}

/// 100,000 small files (100 directories of 1,000; one in ten holds its own
/// name, the others are empty, which keeps the test's memory use small) and
/// a tree 200 levels deep with a file at every level: `digest` finishes,
/// lists every file in order, prints the digest computed independently
/// here, and its peak resident memory stays below 200 MiB.
#[test]
fn a_hundred_thousand_files_and_a_deep_tree_in_bounded_memory() {
    let tmp = memory_tempdir();
    let model = tmp.path().join("model");
    let mut files = Vec::new();
    for d in 0..100 {
        let dir = format!("d{d:03}");
        fs::create_dir_all(model.join(&dir)).expect("mkdir");
        for f in 0..1000 {
            let name = format!("f{f:04}");
            let content = if f % 10 == 0 {
                format!("{dir}/{name}\n").into_bytes()
            } else {
                Vec::new()
            };
            fs::write(model.join(&dir).join(&name), &content).expect("write");
            files.push((vec![dir.clone(), name], content));
        }
    }
    let mut components = vec!["deep".to_owned()];
    for level in 0..200 {
        let path: PathBuf = components.iter().collect();
        fs::create_dir_all(model.join(&path)).expect("mkdir deep");
        let content = format!("level {level}\n").into_bytes();
        fs::write(model.join(&path).join("file"), &content).expect("write deep");
        let mut key = components.clone();
        key.push("file".to_owned());
        files.push((key, content));
        components.push(format!("l{level:03}"));
    }
    let expected = expected_digest(&files);
    files.sort_by(|x, y| x.0.cmp(&y.0));
    let expected_names: Vec<String> = files.iter().map(|(k, _)| k.join("/")).collect();

    let start = Instant::now();
    let (doc, peak) = digest_json_with_peak(&model, "4");
    let elapsed = start.elapsed();
    assert_eq!(doc["digest"], expected.as_str());
    let names: Vec<&str> = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 100_200);
    assert!(
        names == expected_names,
        "the resources are not the files in order"
    );
    assert_eq!(names.iter().map(|n| n.split('/').count()).max(), Some(201));
    eprintln!(
        "100,200 files, 200 levels: {elapsed:?}, peak RSS {:.1} MiB (bound {} MiB)",
        peak as f64 / f64::from(1 << 20),
        MEMORY_BOUND >> 20
    );
    assert!(
        peak < MEMORY_BOUND,
        "peak RSS {peak} bytes is above {MEMORY_BOUND}"
    );
}
