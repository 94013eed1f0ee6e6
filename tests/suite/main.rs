//! Every integration test of iamctl, as one test binary (as cargo's own `tests/testsuite`):
//! one file per area, each a module here. Each test binary links the whole crate and the AWS
//! SDK, so 26 binaries spent most of `scripts/test` linking; one links once, and its tests share
//! one moto server (tests/support), one copy of the shared helpers, and one compile of them.
//!
//! A new test file goes here as `tests/suite/<area>.rs` plus a `mod <area>;` line below, not as
//! `tests/<area>.rs` (that would be another binary); `layout` below checks both.

// The helpers every area shares, beside the suite so that benches/ can include fixtures too.
#[path = "../fault_proxy/mod.rs"]
mod fault_proxy;
#[path = "../fixtures/mod.rs"]
mod fixtures;
#[path = "../support/mod.rs"]
mod support;

mod apply;
mod cli;
mod cli_live;
mod cloudtrail;
mod compliance;
mod controls;
mod credential_reads;
mod credentials;
mod desired_errors;
mod engine;
mod events;
mod examples_fleet;
mod fleet;
mod fleet_scale;
mod harness_selftest;
mod import;
#[cfg(feature = "lambda")]
mod lambda;
#[cfg(feature = "lambda")]
mod lambda_shards;
mod layers;
mod live;
mod notify;
mod permissions;
mod population;
mod proptest_loaders;
mod reliability_crash;
mod reliability_faults;
mod reliability_input;
mod render;
mod report;
mod rotation;
mod sarif;
mod security_hub;
mod targets;
mod workflows;

/// The layout this file's doc asks for: a file that is not a module here is never compiled, so
/// its tests would silently not run; a file in `tests/` is a binary of its own.
mod layout {
    use std::path::Path;

    fn rust_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".rs"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_file_of_the_suite_is_a_module_of_it_and_no_test_is_a_binary_of_its_own() {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let main = std::fs::read_to_string(tests.join("suite/main.rs")).unwrap();
        let unlisted: Vec<String> = rust_files(&tests.join("suite"))
            .into_iter()
            .filter(|file| file != "main.rs")
            .filter(|file| {
                let line = format!("\nmod {};\n", file.trim_end_matches(".rs"));
                !main.contains(&line)
            })
            .collect();
        assert_eq!(
            unlisted,
            Vec::<String>::new(),
            "files of tests/suite/ that no `mod` line of tests/suite/main.rs declares"
        );
        assert_eq!(
            rust_files(&tests),
            Vec::<String>::new(),
            "test binaries of their own in tests/: make them modules of tests/suite/"
        );
    }
}
