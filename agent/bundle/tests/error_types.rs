//! The typed errors carry the values at fault and their causes as typed fields, and each
//! message includes its cause (so `source()` is `None` and a printed chain does not repeat
//! it): inference errors from tract and from wrong input sizes, and bundle errors that
//! wrap an I/O, JSON, ONNX or `valid.bin` error.

use std::error::Error as _;

use tabnas_bundle::*;

fn dense(inputs: usize, outputs: usize) -> Dense {
    Dense {
        inputs,
        outputs,
        weight: (0..inputs * outputs).map(|i| i as f32 * 0.1).collect(),
        bias: vec![0.5; outputs],
    }
}

fn shape(numeric: usize, outputs: usize) -> NetShape {
    NetShape {
        numeric,
        categorical: 0,
        outputs,
    }
}

#[test]
fn wrong_input_sizes_are_named() {
    let net = TractNet::with_shape(&dense_model(&dense(3, 2), true), shape(3, 2), 2).unwrap();
    assert_eq!(net.run(&[0.0; 6], &[]).unwrap().len(), 4);
    let err = net.run(&[0.0; 5], &[]).unwrap_err();
    assert_eq!(
        err,
        InferenceError::InputSize {
            rows: 2,
            expected_numeric: 6,
            expected_categorical: 0,
            found_numeric: 5,
            found_categorical: 0,
        }
    );
    assert_eq!(
        err.to_string(),
        "2 rows need 6 numeric and 0 categorical values, got 5 and 0"
    );
    // `predict` checks the rows too, instead of panicking on a short slice.
    assert_eq!(net.predict(&[0.0; 9], &[], 3).unwrap().len(), 6);
    assert!(matches!(
        net.predict(&[0.0; 8], &[], 3),
        Err(InferenceError::InputSize {
            rows: 3,
            expected_numeric: 9,
            found_numeric: 8,
            ..
        })
    ));
}

#[test]
fn tract_failures_name_the_stage() {
    // The graph says the input has 3 columns; the shape given says 4.
    let err = TractNet::with_shape(&dense_model(&dense(3, 2), false), shape(4, 2), 1).unwrap_err();
    let InferenceError::Tract { stage, detail } = &err else {
        panic!("{err:?}");
    };
    assert!(!detail.is_empty());
    assert!(err
        .to_string()
        .starts_with(&format!("tract could not {stage}: ")));
}

#[test]
fn loss_failures_keep_the_loss_error() {
    let err = InferenceError::from(LossError::NonFiniteOutput { row: 3 });
    assert_eq!(err.to_string(), "the network output of row 3 is not finite");
    assert_eq!(
        err,
        InferenceError::Loss(LossError::NonFiniteOutput { row: 3 })
    );
    assert!(err.source().is_none());
}

#[test]
fn bundle_errors_keep_their_causes() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Bundle::load(tmp.path()).unwrap_err();
    let BundleError::Io { path, source } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(path, &tmp.path().join(MANIFEST_FILE));
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert!(err.to_string().contains(&source.to_string()), "{err}");
    assert!(err.source().is_none());

    let dir = tmp.path();
    let err = Bundle::from_parts(dir, b"{", b"", b"").unwrap_err();
    let BundleError::Json { source, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(err.to_string().contains(&source.to_string()), "{err}");

    let err = decode_model(b"").unwrap_err();
    assert_eq!(err, OnnxDecodeError::Empty);
    let err = decode_model(b"\xff\xff\xff garbage").unwrap_err();
    let OnnxDecodeError::Protobuf(cause) = &err else {
        panic!("{err:?}");
    };
    assert!(err.to_string().contains(&cause.to_string()), "{err}");

    let wrapped = BundleError::Valid {
        path: dir.join(VALID_FILE),
        source: ValidError::NoRows,
    };
    assert!(wrapped.to_string().ends_with("valid.bin: has no rows"));
    assert!(wrapped.source().is_none());
}
