//! Links tabnas-core into a `#![no_std]` static library with its own panic
//! handler. If anything in the core pulls in `std`, the build fails with
//! "duplicate lang item `panic_impl`" (std brings its own handler).
//!
//! The exported function runs one Monte-Carlo rejection step of the toy problem, so the
//! core's search path is really compiled and linked, not just type-checked.
#![no_std]

use core::panic::PanicInfo;

use tabnas_core::feasibility::Feasibility;
use tabnas_core::rng::search_rng;
use tabnas_core::search::{PvMode, RlSearch, SearchSettings};
use tabnas_core::toy::{toy_space, ToyLosses, TOY_COST, TOY_LIMIT_PARAMS};

/// Runs `steps` toy steps with `seed` and returns how many updated the controller
/// (or `u32::MAX` on error).
#[no_mangle]
pub extern "C" fn tabnas_nostd_toy_steps(seed: u64, steps: u32) -> u32 {
    let space = toy_space();
    let Ok(feasibility) = Feasibility::new(&space, &TOY_COST, TOY_LIMIT_PARAMS) else {
        return u32::MAX;
    };
    let settings = SearchSettings::rejection(PvMode::MonteCarlo { samples: 16 }, 0.1);
    let Ok(mut search) = RlSearch::<16>::new(&space, settings) else {
        return u32::MAX;
    };
    let mut rng = search_rng(seed);
    for _ in 0..steps {
        if search.step(&mut rng, &feasibility, &mut ToyLosses).is_err() {
            return u32::MAX;
        }
    }
    search.counts().updated
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}
