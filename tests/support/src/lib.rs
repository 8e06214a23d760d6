//! Helpers shared by every tabnas test suite, so that each runs a binary, finds the
//! repository, the Python cross-check venv and the real-data cache the same way.
//!
//! Nothing here decides what a test asserts; it only runs things and reports what
//! happened.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

/// What one run of a binary did.
#[derive(Debug)]
pub struct Run {
    /// Whether it exited with status 0.
    pub ok: bool,
    /// Its standard output (lossy UTF-8).
    pub stdout: String,
    /// Its standard error (lossy UTF-8).
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs the binary at `exe` (pass `env!("CARGO_BIN_EXE_<name>")`) with `args` and
/// waits for it.
///
/// # Panics
/// When the binary cannot be started at all (a broken build, not a test outcome).
pub fn run(exe: &str, args: &[&str]) -> Run {
    Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {exe}: {e}"))
        .into()
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    // Found at run time from the test's package (Cargo sets CARGO_MANIFEST_DIR for the
    // tests it runs): one target folder shared by two checkouts keeps this crate built
    // once, with the first checkout's path compiled in.
    let compiled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|dir| {
            dir.ancestors()
                .find(|d| d.join("Cargo.lock").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or(compiled)
}

/// Whether the tests run under CI (`CI` set), where a missing prerequisite fails
/// instead of skipping.
pub fn under_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The venv's Python for the ONNX cross-checks: `$TABNAS_PYTHON` (set by
/// `scripts/test.sh`), or one made now by `scripts/pyvenv.sh`. Without Python or a
/// package index it returns `None` after a message, except under CI, where it panics.
pub fn python() -> Option<String> {
    if let Some(p) = std::env::var_os("TABNAS_PYTHON") {
        return Some(p.to_string_lossy().into_owned());
    }
    match Command::new("bash")
        .arg(repo_root().join("scripts/pyvenv.sh"))
        .output()
    {
        Ok(out) if out.status.success() => {
            Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
        }
        other => {
            let why = format!("{other:?}");
            assert!(!under_ci(), "cannot set up the Python venv: {why}");
            eprintln!("skipping the Python cross-check: {why}");
            None
        }
    }
}

/// The real-data cache: `$TABNAS_DATA_DIR` (set by `scripts/test.sh`). Without it the
/// caller skips after a message, except under CI, where this panics.
pub fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("TABNAS_DATA_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None if under_ci() => panic!("TABNAS_DATA_DIR is not set under CI: run scripts/test.sh"),
        None => {
            eprintln!(
                "TABNAS_DATA_DIR not set: skipping real-data checks (scripts/test.sh sets it)"
            );
            None
        }
    }
}

/// `(tabnas, tabnas-agent)`, built for the calling test's profile. The binaries belong
/// to other packages of the workspace, so Cargo gives a test no `CARGO_BIN_EXE_*` for
/// them: they are built once with the Cargo that runs the test, into the same target
/// folder and profile (a no-op when they are up to date).
pub fn binaries() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        // A test runs as TARGET/PROFILE/deps/NAME-HASH.
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("a test binary lives in TARGET/PROFILE/deps");
        let target_dir = profile_dir.parent().expect("TARGET/PROFILE");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(repo_root())
            .args(["build", "--quiet"])
            .args(["-p", "tabnas-trainer", "--bin", "tabnas"])
            .args(["-p", "tabnas-agent", "--bin", "tabnas-agent"])
            .arg("--target-dir")
            .arg(target_dir);
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                build.arg("--release");
            }
            Some(other) => {
                build.args(["--profile", other]);
            }
        }
        let status = build
            .status()
            .unwrap_or_else(|e| panic!("cannot run cargo to build the binaries: {e}"));
        assert!(status.success(), "building tabnas and tabnas-agent failed");
        let exe = |name: &str| profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        (exe("tabnas"), exe("tabnas-agent"))
    })
}

/// Writes `rows` rows of a small, deterministic binary task with a header (`x,z,y`):
/// `y` is 1 when `x + 0.3 z > 0`.
pub fn write_linear_csv(path: &Path, rows: u32) {
    use std::io::Write;
    let mut f = std::fs::File::create(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    let mut text = String::from("x,z,y\n");
    for r in 0..rows {
        let x = ((r * 29) % 83) as f32 / 8.3 - 5.0;
        let z = ((r * 11) % 17) as f32 - 8.0;
        text.push_str(&format!("{x},{z},{}\n", (x + 0.3 * z > 0.0) as u8));
    }
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// A served agent, killed when dropped.
pub struct Served {
    /// The agent's process.
    pub child: Child,
    /// Its HTTP address (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The pseudo-terminal it serves, with `--serial pty`.
    pub pty: Option<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tabnas-agent serve ARGS --http 127.0.0.1:0` (built by [`binaries`]) and
/// reads where it serves; the agent is killed when the result is dropped.
pub fn serve_agent(args: &[&str]) -> Served {
    let (_, agent) = binaries();
    let mut child = Command::new(agent)
        .arg("serve")
        .args(["--http", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tabnas-agent serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
    let (mut url, mut pty) = (None, None);
    let wants_pty = args.contains(&"pty");
    while url.is_none() || (wants_pty && pty.is_none()) {
        let mut line = String::new();
        assert!(
            lines.read_line(&mut line).expect("agent output") > 0,
            "the agent ended before serving"
        );
        if let Some(rest) = line.strip_prefix("HTTP on ") {
            url = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(rest) = line.strip_prefix("serial on ") {
            pty = rest.split_whitespace().next().map(str::to_string);
        }
    }
    std::thread::spawn(move || for _ in lines.lines() {});
    Served {
        child,
        url: url.expect("HTTP address"),
        pty,
    }
}

/// Writes `token` to `dir/token`, readable by its owner only (as the agent wants).
pub fn write_token_file(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{token}\n"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
    }
    path
}

/// A host profile whose search keeps one child's loss in its quality cache, so that
/// every step evaluates its child on the validation rows: about 2 ms a step on the demo
/// bundle here, so a search lasts seconds. The cache changes no value, only the time.
pub const SLOW_PROFILE: &str = "[board]\nname = \"host\"\n[search]\nquality_cache = 1\n";
