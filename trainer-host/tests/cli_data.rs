//! Data as people have it, through the `tabnas` command: Criteo in its raw and Kaggle
//! forms (and which one was seen), `--log1p` columns of a CSV file, and the named
//! search spaces of `--space`.

use std::fmt::Write as _;
use std::path::Path;

use tabnas_test_support::{run, Run};

const TABNAS: &str = env!("CARGO_BIN_EXE_tabnas");

/// `rows` generated rows in Criteo's raw form (label, 13 integers, 26 hashes).
fn criteo_raw(rows: usize) -> String {
    let mut out = String::new();
    for r in 0..rows {
        let mut fields = vec![((r * 7 + r / 3) % 2).to_string()];
        for k in 0..13 {
            fields.push(match (r + k) % 5 {
                0 => String::new(),
                1 => "-1".into(),
                _ => ((r * 31 + k * 17) % 900).to_string(),
            });
        }
        for k in 0..26 {
            fields.push(match (r + k) % 6 {
                0 => String::new(),
                _ => format!("{:08x}", (r * 13 + k) % 40),
            });
        }
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    out
}

/// The same rows in the Kaggle CSV form (header, `Id`, commas).
fn criteo_kaggle(raw: &str) -> String {
    let mut out = String::from("Id,Label");
    for k in 1..=13 {
        write!(out, ",I{k}").unwrap();
    }
    for k in 1..=26 {
        write!(out, ",C{k}").unwrap();
    }
    out.push('\n');
    for (i, line) in raw.lines().enumerate() {
        writeln!(out, "{},{}", 60_000_000 + i, line.replace('\t', ",")).unwrap();
    }
    out
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("bundle/manifest.json")).unwrap()).unwrap()
}

fn search(data: &[&str], extra: &[&str], out: &Path) -> Run {
    let mut args = vec!["search"];
    args.extend_from_slice(data);
    args.extend_from_slice(&[
        "--buckets",
        "8",
        "--steps",
        "4",
        "--batch",
        "16",
        "--valid-batch",
        "16",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    args.extend_from_slice(extra);
    run(TABNAS, &args)
}

#[test]
fn criteo_kaggle_form_and_the_paper_criteo_space() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = criteo_raw(200);
    let kaggle = tmp.path().join("train.csv");
    std::fs::write(&kaggle, criteo_kaggle(&raw)).unwrap();
    let out = tmp.path().join("run");
    let Run { ok, stdout, stderr } = search(
        &["--criteo", kaggle.to_str().unwrap()],
        &["--space", "paper-criteo", "--target", "41153"],
        &out,
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("in Criteo's Kaggle CSV form (header, Id column, commas)"),
        "{stdout}"
    );
    let m = manifest(&out);
    assert_eq!(m["inputs"]["embedding_dim"], 39, "the paper's Criteo input");
    assert_eq!(m["space"].as_array().unwrap().len(), 3);
    assert_eq!(m["space"][0].as_array().unwrap().len(), 20);
    assert!(m["inputs"]["numeric"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["log1p"] == true));

    // The raw form says so too; --embedding-dim overrides the space's.
    let raw_file = tmp.path().join("train.txt");
    std::fs::write(&raw_file, &raw).unwrap();
    let out = tmp.path().join("run-raw");
    let Run { ok, stdout, stderr } = search(
        &["--criteo", raw_file.to_str().unwrap()],
        &[
            "--space",
            "paper-criteo",
            "--embedding-dim",
            "4",
            "--target",
            "41153",
        ],
        &out,
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("in Criteo's raw form"), "{stdout}");
    assert_eq!(manifest(&out)["inputs"]["embedding_dim"], 4);

    // A comma file without the header: the error names the line and the two forms.
    let plain = tmp.path().join("plain.csv");
    std::fs::write(&plain, raw.replace('\t', ",")).unwrap();
    let Run { ok, stderr, .. } = search(
        &["--criteo", plain.to_str().unwrap()],
        &["--target", "41153"],
        &tmp.path().join("run-bad"),
    );
    assert!(!ok);
    assert!(
        stderr.contains("plain.csv:1: expected 40 tab-separated fields (Criteo's raw form), found 1; the Kaggle CSV form needs its header line"),
        "{stderr}"
    );
}

#[test]
fn csv_log1p_columns_and_named_spaces() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("rows.csv");
    let mut text = String::from("count,x,y\n");
    for r in 0..200 {
        writeln!(
            text,
            "{},{},{}",
            (r * 37) % 1000,
            (r % 7) as f32 / 7.0,
            r % 2
        )
        .unwrap();
    }
    std::fs::write(&csv, text).unwrap();
    let data = [
        "--csv",
        csv.to_str().unwrap(),
        "--header",
        "--label",
        "y",
        "--log1p",
        "count",
    ];
    let out = tmp.path().join("run");
    let Run { ok, stderr, .. } = search(&data, &["--space", "toy", "--target", "30"], &out);
    assert!(ok, "{stderr}");
    let m = manifest(&out);
    let numeric = m["inputs"]["numeric"].as_array().unwrap();
    assert_eq!(
        (numeric[0]["name"].as_str(), &numeric[0]["log1p"]),
        (Some("count"), &serde_json::json!(true))
    );
    assert_eq!(numeric[1]["log1p"], false);
    assert_eq!(m["space"], serde_json::json!([[2, 3, 4], [2, 3, 4]]));

    // --log1p of the label column, and of a --criteo file, are named errors.
    let mut bad = data.to_vec();
    bad[6] = "y";
    let Run { ok, stderr, .. } = search(&bad, &["--target", "30"], &tmp.path().join("b"));
    assert!(
        !ok && stderr
            .contains("column `y` is the label column and cannot also be log1p-transformed"),
        "{stderr}"
    );
    let Run { ok, stderr, .. } = search(
        &["--criteo", csv.to_str().unwrap(), "--log1p", "count"],
        &["--target", "30"],
        &tmp.path().join("c"),
    );
    assert!(
        !ok && stderr.contains("--log1p names columns of a --csv file"),
        "{stderr}"
    );
    let Run { ok, stderr, .. } = search(
        &data,
        &["--space", "paper-crito", "--target", "30"],
        &tmp.path().join("d"),
    );
    assert!(
        !ok && stderr.contains("is neither widths (like \"8,16,32;8,16\") nor a named space: paper-criteo, toy, default"),
        "{stderr}"
    );
}

#[test]
fn criteo_streamed_through_a_spill_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("train.txt");
    std::fs::write(&file, criteo_raw(600)).unwrap();
    let spill = tmp.path().join("spill");
    let out = tmp.path().join("run");
    let Run { ok, stdout, stderr } = search(
        &["--criteo", file.to_str().unwrap()],
        &[
            "--spill-dir",
            spill.to_str().unwrap(),
            "--max-eval-rows",
            "50",
            "--target",
            "5000",
        ],
        &out,
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("in two streaming passes; its"), "{stdout}");
    assert!(
        stdout.contains("validation: a uniform sample of 50 of its"),
        "{stdout}"
    );
    // The bundle keeps the sampled validation rows; the row file is gone with the run.
    let m = manifest(&out);
    assert_eq!(m["training"]["rows"][1], 50);
    assert!(m["inputs"]["numeric"][0]["log1p"] == true);
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);

    // A CSV file streams too: text labels, a categorical column, missing values.
    let csv = tmp.path().join("t.csv");
    let mut text = String::from("size,colour,y\n");
    for i in 0..400 {
        let size = if i % 17 == 0 {
            "?".to_string()
        } else {
            (i % 23).to_string()
        };
        let label = if (i * 7) % 5 < 2 { "yes" } else { "no" };
        text.push_str(&format!("{size},c{},{label}\n", i % 6));
    }
    std::fs::write(&csv, text).unwrap();
    let csv_data = [
        "--csv",
        csv.to_str().unwrap(),
        "--header",
        "--label",
        "y",
        "--categorical",
        "colour",
    ];
    let out = tmp.path().join("run-csv");
    let Run { ok, stdout, stderr } = search(
        &csv_data,
        &[
            "--spill-dir",
            spill.to_str().unwrap(),
            "--max-eval-rows",
            "20",
            "--space",
            "toy",
            "--target",
            "30",
        ],
        &out,
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("in two streaming passes; its") && !stdout.contains(" in raw "),
        "{stdout}"
    );
    let m = manifest(&out);
    assert_eq!(m["training"]["rows"][1], 20);
    assert_eq!(m["task"]["labels"], serde_json::json!(["no", "yes"]));
    assert_eq!(m["inputs"]["categorical"][0]["name"], "colour");
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);

    // --spill-dir is for files read in a stream, and the sample needs a row.
    let Run { ok, stderr, .. } = search(
        &[
            "--dataset",
            "adult",
            "--data-dir",
            tmp.path().to_str().unwrap(),
        ],
        &["--spill-dir", spill.to_str().unwrap(), "--target", "5000"],
        &tmp.path().join("run-preset"),
    );
    assert!(
        !ok && stderr.contains("--spill-dir applies to a --criteo or --csv file"),
        "{stderr}"
    );
    // Flags that do not apply are refused, not ignored: --max-eval-rows with a file read
    // into memory, CSV flags with a Criteo file, --positive with a task without one.
    for (data, flags, message) in [
        (
            &csv_data[..],
            &["--max-eval-rows", "5"][..],
            "--max-eval-rows applies to a file read in a stream",
        ),
        (
            &["--criteo", file.to_str().unwrap()][..],
            &["--label", "3"][..],
            "--label describes a --csv file",
        ),
        (
            &["--criteo", file.to_str().unwrap()][..],
            &["--header"][..],
            "--header describes a --csv file",
        ),
        (
            &csv_data[..],
            &["--task", "multiclass", "--positive", "yes"][..],
            "--positive names the label meaning 1 of a binary task, not of --task multiclass",
        ),
    ] {
        let mut extra = flags.to_vec();
        extra.extend(["--space", "toy", "--target", "30"]);
        let Run { ok, stderr, .. } = search(data, &extra, &tmp.path().join("refused"));
        assert!(!ok && stderr.contains(message), "{flags:?}: {stderr}");
    }
    let Run { ok, stderr, .. } = search(
        &["--criteo", file.to_str().unwrap()],
        &["--max-eval-rows", "0", "--target", "5000"],
        &tmp.path().join("run-zero"),
    );
    assert!(
        !ok && stderr.contains("--max-eval-rows must be at least 1"),
        "{stderr}"
    );
}
