//! Property tests of the checked decoding path (proptest, "Problem" pattern): arbitrary
//! or mutated bytes never panic [`SearchConfig::decode`], and every configuration it
//! accepts is valid and re-encodes to the same bytes.

use proptest::prelude::*;
use tabnas_core::cost::FfnShape;
use tabnas_core::formats::search_config::{Resource, SearchConfig};
use tabnas_core::reward::Reward;
use tabnas_core::search::{PvMode, SearchSettings};
use tabnas_core::space::SearchSpace;

fn valid_config(layers: usize, widths: Vec<u32>, n: u16, beta: f64, seed: u64) -> SearchConfig {
    let space = SearchSpace::uniform(layers, &widths).unwrap();
    let reward = if beta < 0.5 {
        Reward::Rejection
    } else {
        Reward::Abs { beta }
    };
    SearchConfig {
        space,
        resource: Resource::Params(FfnShape {
            input: 10,
            output: 1,
            biases: true,
        }),
        target: 1000.0,
        settings: SearchSettings {
            reward,
            ..SearchSettings::rejection(PvMode::MonteCarlo { samples: n }, 0.05)
        },
        steps: 10,
        seed,
    }
}

/// Checks one byte string against the decoder's contract.
fn check(bytes: &[u8]) {
    if let Ok(config) = SearchConfig::decode(bytes, 4096) {
        assert!(config.validate(4096).is_ok());
        let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
        let again = config.encode(&mut buf).unwrap();
        assert_eq!(SearchConfig::decode(again, 4096).unwrap(), config);
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes);
    }

    #[test]
    fn mutated_valid_configs_never_panic(
        layers in 1usize..=8,
        widths in proptest::collection::btree_set(1u32..5000, 1..=32),
        n in 1u16..=4096,
        beta in 0.0f64..10.0,
        seed in any::<u64>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
    ) {
        let config = valid_config(layers, widths.into_iter().collect(), n, beta, seed);
        let mut buf = [0u8; SearchConfig::MAX_ENCODED_LEN];
        let len = config.encode(&mut buf).unwrap().len();
        prop_assert_eq!(SearchConfig::decode(&buf[..len], 4096).unwrap(), config);
        for (at, byte) in flips {
            buf[at % len] = byte;
        }
        check(&buf[..len]);
    }
}
