//! `replay CONFIG MODEL LOG`: checks a firmware log on this machine (any std target:
//! scripts/boards.sh runs it on x86-64 and, under qemu-user, on aarch64).
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, model, log] = args.as_slice() else {
        eprintln!("usage: replay CONFIG.bin MODEL.bin FIRMWARE.log");
        return ExitCode::from(2);
    };
    let read = |p: &str| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    // The model's floats must be 4-byte aligned: copy into u32 storage.
    let model = read(model);
    let mut words = vec![0u32; model.len().div_ceil(4)];
    let bytes: &mut [u8] = bytemuck_bytes(&mut words);
    bytes[..model.len()].copy_from_slice(&model);
    let log = String::from_utf8_lossy(&read(log)).into_owned();
    match tabnas_cm4::replay::replay(&read(config), &bytes[..model.len()], &log) {
        Ok(lines) => {
            print!("{lines}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("replay disagrees with the firmware:\n{e}");
            ExitCode::FAILURE
        }
    }
}

fn bytemuck_bytes(words: &mut [u32]) -> &mut [u8] {
    // SAFETY: u32 storage viewed as bytes (any bit pattern is a valid u8).
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), words.len() * 4) }
}
