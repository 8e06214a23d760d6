//! Predictions spread over threads equal the one-thread predictions bit for bit, each row
//! in its place, for row counts below, at and around multiples of the batch.

use tabnas_bundle::*;

fn net(batch: usize) -> TractNet {
    let dense = Dense {
        inputs: 3,
        outputs: 2,
        weight: (0..6).map(|i| i as f32 * 0.25 - 0.6).collect(),
        bias: vec![0.5, -0.25],
    };
    let shape = NetShape {
        numeric: 3,
        categorical: 0,
        outputs: 2,
    };
    TractNet::with_shape(&dense_model(&dense, true), shape, batch).unwrap()
}

#[test]
fn threads_change_nothing_but_the_time() {
    let batched = net(4);
    let single = net(1);
    for rows in [0usize, 1, 3, 4, 5, 13] {
        let x: Vec<f32> = (0..rows * 3).map(|i| (i as f32 * 0.37).sin()).collect();
        let one = batched.predict_on(&x, &[], rows, 1).unwrap();
        assert_eq!(one.len(), rows * 2);
        // Each row alone (batch 1) gives the same outputs to rounding: rows are in place.
        let alone = single.predict(&x, &[], rows).unwrap();
        for (a, b) in one.iter().zip(&alone) {
            assert!((a - b).abs() <= 1e-6, "rows {rows}: {a} vs {b}");
        }
        for threads in [0, 2, 3, 8] {
            let many = batched.predict_on(&x, &[], rows, threads).unwrap();
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&many), bits(&one), "rows {rows}, threads {threads}");
        }
    }
    // Inputs of the wrong length are refused, on any number of threads.
    assert!(matches!(
        batched.predict_on(&[0.0; 8], &[], 3, 4),
        Err(InferenceError::InputSize { rows: 3, .. })
    ));
}
