//! The report reads criterion's medians and computes its ratios the right way round.

use std::collections::HashMap;
use std::path::PathBuf;

use bpfkit_benches::Engine;
use bpfkit_benches::report::{Medians, markdown};

fn estimates(median: f64) -> String {
    let estimate = |v: f64| {
        format!(
            r#"{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{v},"upper_bound":{v}}},"point_estimate":{v},"standard_error":0.1}}"#
        )
    };
    format!(
        r#"{{"mean":{},"median":{},"median_abs_dev":{},"slope":null,"std_dev":{}}}"#,
        estimate(median * 1.1),
        estimate(median),
        estimate(1.0),
        estimate(2.0)
    )
}

fn fake_criterion_dir(results: &[(&str, Engine, f64)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfkit-report-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for &(program, engine, median) in results {
        let at = dir
            .join(format!("interp-{program}"))
            .join(engine.name())
            .join("new");
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(at.join("estimates.json"), estimates(median)).unwrap();
    }
    dir
}

#[test]
fn reads_medians_and_computes_ratios() {
    let dir = fake_criterion_dir(&[
        ("sieve", Engine::Bpfkit, 100.0),
        ("sieve", Engine::Rbpf, 300.0),
        ("sieve", Engine::SolanaSbpf, 150.0),
        ("sieve", Engine::Native, 10.0),
        ("calls", Engine::Bpfkit, 2500.0),
        ("calls", Engine::Native, 50.0),
    ]);
    let medians = Medians::read(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(medians.get("sieve", Engine::Rbpf), Some(300.0));
    assert_eq!(medians.get("calls", Engine::Rbpf), None);

    let counts = HashMap::from([("sieve".to_string(), 50)]);
    let table = markdown(&medians, &counts);
    let row = |name: &str, nth: usize| {
        table
            .lines()
            .filter(|l| l.starts_with(&format!("| {name} |")))
            .nth(nth)
            .unwrap_or_else(|| panic!("no row {nth} for {name} in\n{table}"))
            .to_string()
    };
    assert_eq!(
        row("sieve", 0),
        "| sieve | 50 | 100 ns | 300 ns | 150 ns | 10.0 ns | 2.00 |"
    );
    // Speed-up: the peer's time over bpfkit's; slowdown: the engine's time over native's.
    assert_eq!(
        row("sieve", 1),
        "| sieve | 3.00× | 1.50× | 10.00× | 30.00× | 15.00× |"
    );
    assert_eq!(
        row("calls", 0),
        "| calls | – | 2.50 µs | – | – | 50.0 ns | – |"
    );
    assert_eq!(row("calls", 1), "| calls | – | – | 50.00× | – | – |");
    assert!(table.contains("| **geometric mean** | 3.00× | 1.50× | 22.36× | 30.00× | 15.00× |"));
}

#[test]
fn a_missing_directory_gives_no_results() {
    let medians = Medians::read(&PathBuf::from("/nonexistent/criterion")).unwrap();
    assert!(medians.is_empty());
}

#[test]
fn the_fastest_sample_is_the_least_time_per_iteration() {
    use bpfkit_benches::report::fastest_of;
    let sample =
        r#"{"sampling_mode":"Linear","iters":[4.0,8.0,12.0],"times":[400.0,720.0,1260.0]}"#;
    // 100, 90 and 105 ns per iteration.
    assert_eq!(fastest_of(sample), Ok(90.0));
    assert!(fastest_of(r#"{"iters":[1.0],"times":[]}"#).is_err());
    assert!(fastest_of(r#"{"iters":[],"times":[]}"#).is_err());
    assert!(fastest_of("not json").is_err());
}
