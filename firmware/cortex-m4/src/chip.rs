//! The firmware proper (compiled for `target_os = "none"` only): see `main.rs`.

use core::arch::{asm, global_asm};
use core::fmt::{self, Write};
use core::panic::PanicInfo;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};

use tabnas_cm4::forward::child_loss;
use tabnas_cm4::model::Model;
use tabnas_cm4::report::{loss_lines, result_lines, table_lines, Widths};
use tabnas_cm4::search::{
    calibrate, check, cost_spread, measure_table, run, time_child_record, widths_of, Clock,
    ForwardQuality,
};
use tabnas_cm4::serve::{serve, Answer, Board, Serial};
use tabnas_cm4::MC_CAPACITY;
use tabnas_core::cost::{CostModel, LatencyTable};
use tabnas_core::formats::SearchConfig;
use tabnas_core::protocol::Phase;

/// Core clock: qemu's mps2-an386 runs its Cortex-M4 at 25 MHz. On a real board set it to
/// the core clock (STM32F407 at full speed: 168 MHz).
const CPU_HZ: u32 = 25_000_000;
/// Rows per timed block, and timed repeats (best kept).
const TABLE_ROWS: usize = 8;
const TABLE_REPEATS: usize = 3;
/// Children timed end to end to calibrate the block sum.
const CALIBRATION_CHILDREN: usize = 12;
/// The board profile this firmware is built for (`firmware-config/cortex-m4.toml`) and
/// what measures on it: the wire protocol's `Info`.
const BOARD_NAME: &str = "cortex-m4";
const RUNTIME: &str = concat!("tabnas-cm4 ", env!("CARGO_PKG_VERSION"), " f32 forward");
/// UART0 of qemu's mps2-an386 (CMSDK APB UART): its APB clock, the baud rate
/// (`firmware-config/cortex-m4.toml` `[service] baud`).
const UART_PCLK_HZ: u32 = 25_000_000;
const UART_BAUD: u32 = 115_200;
/// The serve loop after the search ends when no byte has arrived for this many seconds
/// of the firmware's clock (emulated seconds under qemu -icount).
const SERVE_IDLE_S: u32 = 5;
/// Stack paint pattern (written by `Reset` from the end of .bss to 256 bytes below the
/// initial stack pointer).
const PAINT: u32 = 0xDEAD_BEEF;

/// The latency table (36 KB at the core's fixed capacities), kept out of the stack.
static mut TABLE: Option<LatencyTable> = None;

#[repr(C, align(4))]
struct Align4<T: ?Sized>(T);

static CONFIG: &Align4<[u8]> = &Align4(*include_bytes!(concat!(env!("OUT_DIR"), "/config.bin")));
static MODEL: &Align4<[u8]> = &Align4(*include_bytes!(concat!(env!("OUT_DIR"), "/model.bin")));

// Vector table and reset: enable the FPU before any floating-point instruction, copy
// .data, zero .bss, paint the stack, call `tabnas_main`.
global_asm!(
    r#"
    .section .vector_table, "a"
    .word _stack_top
    .word Reset
    .word DefaultHandler      /* NMI */
    .word HardFault
    .word HardFault           /* MemManage */
    .word HardFault           /* BusFault */
    .word HardFault           /* UsageFault */
    .word 0, 0, 0, 0
    .word DefaultHandler      /* SVCall */
    .word DefaultHandler      /* DebugMonitor */
    .word 0
    .word DefaultHandler      /* PendSV */
    .word DefaultHandler      /* SysTick */

    .section .text.Reset, "ax"
    .global Reset
    .type Reset, %function
    .thumb_func
Reset:
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #0xF00000
    str r1, [r0]
    dsb
    isb
    ldr r0, =_sdata
    ldr r1, =_edata
    ldr r2, =_sidata
1:  cmp r0, r1
    bhs 2f
    ldr r3, [r2], #4
    str r3, [r0], #4
    b 1b
2:  ldr r0, =_sbss
    ldr r1, =_ebss
    movs r2, #0
3:  cmp r0, r1
    bhs 4f
    str r2, [r0], #4
    b 3b
4:  ldr r0, =_ebss
    mov r1, sp
    sub r1, r1, #256
    ldr r2, =0xDEADBEEF
5:  cmp r0, r1
    bhs 6f
    str r2, [r0], #4
    b 5b
6:  bl tabnas_main
    b .
"#
);

extern "C" {
    static _ebss: u32;
    static _stack_top: u32;
}

// ---- semihosting -------------------------------------------------------------------

const SYS_WRITE0: usize = 0x04;
const SYS_CLOCK: usize = 0x10;
const SYS_EXIT: usize = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;
const ADP_STOPPED_RUNTIME_ERROR: usize = 0x20023;

fn semihost(op: usize, arg: usize) -> usize {
    let r;
    // SAFETY: the ARM semihosting call; the debugger (qemu) reads r0/r1.
    unsafe { asm!("bkpt #0xab", inout("r0") op => r, in("r1") arg, options(nostack)) };
    r
}

fn exit(ok: bool) -> ! {
    let reason = if ok {
        ADP_STOPPED_APPLICATION_EXIT
    } else {
        ADP_STOPPED_RUNTIME_ERROR
    };
    semihost(SYS_EXIT, reason);
    loop {}
}

/// Host time in centiseconds (the emulator's clock under qemu).
fn centiseconds() -> u32 {
    semihost(SYS_CLOCK, 0) as u32
}

/// Line-buffered console over SYS_WRITE0.
struct Console {
    buf: [u8; 160],
    len: usize,
}

impl Console {
    const fn new() -> Self {
        Self {
            buf: [0; 160],
            len: 0,
        }
    }

    fn flush(&mut self) {
        if self.len > 0 {
            self.buf[self.len] = 0;
            semihost(SYS_WRITE0, self.buf.as_ptr() as usize);
            self.len = 0;
        }
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() - 1 {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
            if b == b'\n' {
                self.flush();
            }
        }
        Ok(())
    }
}

// ---- clocks ------------------------------------------------------------------------

const DEMCR: *mut u32 = 0xE000_EDFC as *mut u32;
const DWT_CTRL: *mut u32 = 0xE000_1000 as *mut u32;
const DWT_CYCCNT: *mut u32 = 0xE000_1004 as *mut u32;
const SYST_CSR: *mut u32 = 0xE000_E010 as *mut u32;
const SYST_RVR: *mut u32 = 0xE000_E014 as *mut u32;
const SYST_CVR: *mut u32 = 0xE000_E018 as *mut u32;

/// DWT CYCCNT: 32-bit core cycle counter.
struct Dwt;

impl Dwt {
    /// Enables the counter; `None` if it does not count (qemu does not model the DWT).
    fn start() -> Option<Self> {
        // SAFETY: architectural debug registers of the Cortex-M4.
        unsafe {
            write_volatile(DEMCR, read_volatile(DEMCR) | (1 << 24));
            write_volatile(DWT_CYCCNT, 0);
            write_volatile(DWT_CTRL, read_volatile(DWT_CTRL) | 1);
            let a = read_volatile(DWT_CYCCNT);
            for i in 0..64u32 {
                core::hint::black_box(i);
            }
            let b = read_volatile(DWT_CYCCNT);
            (b != a).then_some(Self)
        }
    }
}

impl Clock for Dwt {
    fn now(&mut self) -> u32 {
        // SAFETY: see `start`.
        unsafe { read_volatile(DWT_CYCCNT) }
    }
    fn hz(&self) -> u32 {
        CPU_HZ
    }
}

/// SysTick on the processor clock: a 24-bit down-counter, widened to a 32-bit up-count
/// (exact for intervals under 2^24 cycles, which every timed block is).
struct SysTick {
    last: u32,
    total: u32,
}

impl SysTick {
    fn start() -> Self {
        // SAFETY: architectural SysTick registers.
        unsafe {
            write_volatile(SYST_RVR, 0x00FF_FFFF);
            write_volatile(SYST_CVR, 0);
            write_volatile(SYST_CSR, 0b101); // enable, processor clock, no interrupt
        }
        Self { last: 0, total: 0 }
    }
}

impl Clock for SysTick {
    fn now(&mut self) -> u32 {
        // SAFETY: see `start`.
        let cur = unsafe { read_volatile(SYST_CVR) } & 0x00FF_FFFF;
        self.total = self
            .total
            .wrapping_add(self.last.wrapping_sub(cur) & 0x00FF_FFFF);
        self.last = cur;
        self.total
    }
    fn hz(&self) -> u32 {
        CPU_HZ
    }
}

enum AnyClock {
    Dwt(Dwt),
    SysTick(SysTick),
}

impl Clock for AnyClock {
    fn now(&mut self) -> u32 {
        match self {
            Self::Dwt(c) => c.now(),
            Self::SysTick(c) => c.now(),
        }
    }
    fn hz(&self) -> u32 {
        CPU_HZ
    }
}

// ---- UART --------------------------------------------------------------------------

/// CMSDK APB UART0 of the mps2-an386 (ARM DDI0479C): DATA, STATE (bit 0 TX full, bit 1
/// RX full), CTRL (bit 0 TX enable, bit 1 RX enable), BAUDDIV. One byte of buffer each
/// way, polled. (An STM32F4 board: replace these registers by its USART's.)
const UART0_DATA: *mut u32 = 0x4000_4000 as *mut u32;
const UART0_STATE: *mut u32 = 0x4000_4004 as *mut u32;
const UART0_CTRL: *mut u32 = 0x4000_4008 as *mut u32;
const UART0_BAUDDIV: *mut u32 = 0x4000_4010 as *mut u32;
const UART_TX_FULL: u32 = 1 << 0;
const UART_RX_FULL: u32 = 1 << 1;

struct Uart;

impl Uart {
    fn start(baud: u32) -> Self {
        // SAFETY: the UART0 registers of the mps2-an386 memory map; only this value
        // touches them.
        unsafe {
            write_volatile(UART0_BAUDDIV, UART_PCLK_HZ / baud);
            write_volatile(UART0_CTRL, 0b11); // TX and RX enabled, no interrupts
        }
        Self
    }
}

impl Serial for Uart {
    fn read(&mut self) -> Option<u8> {
        // SAFETY: see `start`; reading DATA clears RX full.
        unsafe {
            (read_volatile(UART0_STATE) & UART_RX_FULL != 0)
                .then(|| read_volatile(UART0_DATA) as u8)
        }
    }

    fn write(&mut self, byte: u8) {
        // SAFETY: see `start`.
        unsafe {
            while read_volatile(UART0_STATE) & UART_TX_FULL != 0 {}
            write_volatile(UART0_DATA, byte as u32);
        }
    }
}

// ---- stack -------------------------------------------------------------------------

/// Bytes of stack ever used: the painted region from the end of .bss up to the first
/// overwritten word.
fn stack_high_water() -> (usize, usize) {
    let bottom = addr_of!(_ebss) as usize;
    let top = addr_of!(_stack_top) as usize;
    let mut p = bottom;
    // SAFETY: reads RAM between the end of .bss and the top of the stack.
    while p < top && unsafe { read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    (top - p, top - bottom)
}

// ---- main --------------------------------------------------------------------------

/// What a search left for the serve loop.
struct Found {
    ok: bool,
    step: u32,
    answer: Option<Answer>,
}

#[no_mangle]
extern "C" fn tabnas_main() -> ! {
    let mut out = Console::new();
    let _ = writeln!(out, "TABNAS-CM4 {}", env!("CARGO_PKG_VERSION"));
    let Ok((mut config, model)) = setup(&mut out) else {
        let _ = writeln!(out, "FAILED");
        exit(false)
    };
    let mut clock = None;
    // SAFETY: the only reference to TABLE, taken once on the only thread.
    let table = unsafe { (*addr_of_mut!(TABLE)).insert(LatencyTable::new(&config.space, 0.0)) };
    let mut found = search(&mut out, &config, &model, &mut clock, table);
    let (used, size) = stack_high_water();
    let _ = writeln!(out, "STACK used={used} of={size}");
    let _ = writeln!(out, "{}", if found.ok { "DONE" } else { "FAILED" });

    // The wire protocol on UART0 until the line has been idle for SERVE_IDLE_S seconds;
    // an accepted StartSearch runs that search, then serves again.
    let mut uart = Uart::start(UART_BAUD);
    loop {
        let _ = writeln!(
            out,
            "SERVE uart0 baud={UART_BAUD} protocol=1 idle_s={SERVE_IDLE_S}"
        );
        let board = Board {
            name: BOARD_NAME,
            runtime: RUNTIME,
            model: &model,
            config: &config,
            table,
            phase: if found.ok { Phase::Done } else { Phase::Failed },
            step: found.step,
            answer: found.answer,
            rows: TABLE_ROWS,
            repeats: TABLE_REPEATS,
        };
        let c = clock.get_or_insert_with(|| AnyClock::SysTick(SysTick::start()));
        let served = serve(&board, &mut uart, c, SERVE_IDLE_S);
        let _ = writeln!(
            out,
            "SERVED {} requests errors={} partial_dropped={}",
            served.requests, served.errors, served.partial_dropped
        );
        let Some(next) = served.restart else {
            break;
        };
        let _ = writeln!(out, "RESTART steps={} seed={}", next.steps, next.seed);
        config = next;
        found = search(&mut out, &config, &model, &mut clock, table);
        let _ = writeln!(out, "{}", if found.ok { "DONE" } else { "FAILED" });
    }
    let (used, _) = stack_high_water();
    let _ = writeln!(out, "SERVE-STACK used={used} of={size}");
    exit(found.ok)
}

/// Decodes the packed configuration and parses the model blob, both in flash.
fn setup(out: &mut Console) -> Result<(SearchConfig, Model<'static>), ()> {
    let config = SearchConfig::decode(&CONFIG.0, MC_CAPACITY).map_err(|e| {
        let _ = writeln!(out, "ERROR {e}");
    })?;
    let model = Model::parse(&MODEL.0).map_err(|e| {
        let _ = writeln!(out, "ERROR {e}");
    })?;
    Ok((config, model))
}

/// Runs the search of `config` and prints its lines (the clock is started on first use
/// and kept for the serve loop; `table` is measured anew).
fn search(
    out: &mut Console,
    config: &SearchConfig,
    model: &Model<'_>,
    clock: &mut Option<AnyClock>,
    table: &mut LatencyTable,
) -> Found {
    match search_inner(out, config, model, clock, table) {
        Ok(found) => found,
        Err(()) => Found {
            ok: false,
            step: 0,
            answer: None,
        },
    }
}

fn search_inner(
    out: &mut Console,
    config: &SearchConfig,
    model: &Model<'_>,
    clock: &mut Option<AnyClock>,
    table: &mut LatencyTable,
) -> Result<Found, ()> {
    check(config, model).map_err(|e| {
        let _ = writeln!(out, "ERROR {e}");
    })?;
    let space = &config.space;
    let _ = writeln!(
        out,
        "CONFIG layers={} children={} target_us={} steps={} seed={} rows={} flash_blob={}",
        space.num_layers(),
        space.cardinality(),
        config.target,
        config.steps,
        config.seed,
        model.rows,
        MODEL.0.len() + CONFIG.0.len()
    );

    if clock.is_none() {
        *clock = Some(match Dwt::start() {
            Some(d) => {
                let _ = writeln!(out, "CLOCK dwt-cyccnt hz={CPU_HZ}");
                AnyClock::Dwt(d)
            }
            None => {
                let _ = writeln!(
                    out,
                    "CLOCK systick hz={CPU_HZ} (DWT CYCCNT does not count here)"
                );
                AnyClock::SysTick(SysTick::start())
            }
        });
    }
    let Some(clock) = clock.as_mut() else {
        return Err(());
    };

    let t0 = centiseconds();
    measure_table(model, space, clock, TABLE_ROWS, TABLE_REPEATS, table);
    let pairs =
        calibrate::<CALIBRATION_CHILDREN>(model, space, clock, TABLE_ROWS, TABLE_REPEATS, table);
    let t1 = centiseconds();
    let table = &*table;
    let _ = table_lines(out, table);
    let (lo, mid, hi) = cost_spread(space, table);
    for (blocks, measured) in pairs {
        let _ = writeln!(out, "CHILD blocks_us={blocks:.2} measured_us={measured:.2}");
    }
    let _ = writeln!(
        out,
        "TABLE-TIME cs={} children_us min={lo:.2} median={mid:.2} max={hi:.2}",
        t1 - t0
    );

    let mut quality = ForwardQuality::new(model, space);
    let steps_every = (config.steps / 4).max(1);
    let t2 = centiseconds();
    let outcome = run(config, table, &mut quality, |r| {
        if r.step % steps_every == 0 {
            let _ = writeln!(out, "PROGRESS step={} cs={}", r.step, centiseconds() - t2);
        }
    })
    .map_err(|e| {
        let _ = writeln!(out, "ERROR {e}");
    })?;
    let t3 = centiseconds();
    let _ = loss_lines(out, quality.losses());
    let _ = result_lines(out, space, &outcome);
    let _ = writeln!(
        out,
        "QUALITY evaluated={} hits={}",
        quality.evaluated, quality.hits
    );
    let cs = (t3 - t2).max(1);
    let _ = writeln!(
        out,
        "SEARCH-TIME cs={} steps_per_s={:.1} (emulated when under qemu)",
        t3 - t2,
        config.steps as f64 * 100.0 / cs as f64
    );

    // The answer, timed end to end: the whole forward pass of one row, best of 3 over
    // the table's rows.
    let mut answer = None;
    if let Some(best) = outcome.best {
        let w = widths_of(space, &best.arch);
        let w = &w[..best.arch.len()];
        let timing = time_child_record(model, w, clock, TABLE_ROWS, TABLE_REPEATS);
        let idx = space.index_of(&best.arch) as usize;
        let loss = match quality.losses()[idx] {
            l if l.is_nan() => child_loss(model, w),
            l => l,
        };
        let _ = writeln!(
            out,
            "ANSWER {} latency_us={:.2} predicted_us={:.2} target_us={} loss={:.6}",
            Widths(space, &best.arch),
            timing.latency_us,
            table.cost(space, &best.arch),
            config.target,
            loss
        );
        answer = Some(Answer {
            arch: best.arch,
            timing,
            loss,
        });
    }
    Ok(Found {
        ok: true,
        step: outcome.counts.steps,
        answer,
    })
}

#[no_mangle]
extern "C" fn DefaultHandler() {
    loop {}
}

#[no_mangle]
extern "C" fn HardFault() -> ! {
    let mut out = Console::new();
    let _ = writeln!(out, "HARDFAULT");
    exit(false)
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let mut out = Console::new();
    let _ = writeln!(out, "PANIC {info}");
    exit(false)
}
