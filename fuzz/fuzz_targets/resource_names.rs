//! Resource names as a statement signs them: file paths, `PATH:START:END`
//! shard names and ignore paths. Accepted names must be canonical: the parsed
//! key writes back to exactly the signed text, so one file or shard has one
//! name only.
//!
//! The first input byte picks the parser; for shard names the next eight
//! bytes are the shard size (big-endian, zero read as one).

#![no_main]

use std::num::NonZeroU64;

use libfuzzer_sys::fuzz_target;
use model_signing::hashing::{Method, RelPath};
use model_signing::fuzzing::parse_path;
use model_signing::statement::parse_resource_name;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => path(rest),
        1 => files(rest),
        2 => shards(rest),
        _ => ignore_path(rest),
    }
});

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

fn path(bytes: &[u8]) {
    let Some(name) = text(bytes) else { return };
    match parse_path(name) {
        Ok(components) => {
            assert_eq!(components.join("/"), name);
            for c in &components {
                assert!(!c.is_empty() && c != "." && c != "..", "{name:?}");
                assert!(!c.contains(['/', '\0']), "{name:?}");
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn files(bytes: &[u8]) {
    let Some(name) = text(bytes) else { return };
    match parse_resource_name(name, Method::Files) {
        Ok(key) => {
            assert_eq!(key.range, None);
            assert_eq!(key.to_string(), name, "a file name is not canonical");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn shards(bytes: &[u8]) {
    let Some((size, name)) = bytes.split_first_chunk::<8>() else {
        return;
    };
    let size = NonZeroU64::new(u64::from_be_bytes(*size)).unwrap_or(NonZeroU64::MIN);
    let Some(name) = text(name) else { return };
    let method = Method::Shards { shard_size: size };
    match parse_resource_name(name, method) {
        Ok(key) => {
            let (start, end) = key.range.expect("a shard has a range");
            assert!(start < end, "{name:?}");
            assert_eq!(start % size.get(), 0, "{name:?}");
            assert!(end - start <= size.get(), "{name:?}");
            assert_eq!(key.to_string(), name, "a shard name is not canonical");
            assert_eq!(
                parse_resource_name(&key.to_string(), method).ok(),
                Some(key)
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn ignore_path(bytes: &[u8]) {
    let Some(name) = text(bytes) else { return };
    match RelPath::parse(name) {
        Ok(p) => {
            assert!(p.components().next().is_some());
            let again = RelPath::parse(&p.to_string()).expect("a normalized path parses again");
            assert_eq!(again, p);
            assert_eq!(RelPath::from_components(p.components()).ok(), Some(p));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
