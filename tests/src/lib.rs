//! QEMU runner for the integration tests: boots through `scripts/run
//! --no-build` (the image `scripts/test` built), reads the console line by
//! line, and waits for lines and for QEMU's own exit with timeouts.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single boot may take before the test fails.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// A scratch directory for generated files, unique per test name.
pub fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target").join("qemu-tests").join(name);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A running QEMU and everything it printed so far.
pub struct Qemu {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    /// Lines before this were consumed by `next_with`.
    cursor: usize,
}

impl Qemu {
    /// Boots with `scripts/run --no-build ARGS`.
    pub fn boot(args: &[&str]) -> Qemu {
        Self::start(args, false)
    }

    /// Boots with `scripts/run --no-build ARGS`, with the console's input
    /// open for [`Qemu::send`].
    pub fn boot_interactive(args: &[&str]) -> Qemu {
        Self::start(args, true)
    }

    /// Types `text` on the serial console.
    pub fn send(&mut self, text: &str) {
        let input = self.child.stdin.as_mut().expect("booted with boot_interactive");
        input.write_all(text.as_bytes()).and_then(|()| input.flush()).expect("console input");
    }

    /// Waits at most `timeout` for a line containing `text` among the lines
    /// after the last one this returned (or all, the first time); returns it.
    pub fn next_with(&mut self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.seen[self.cursor..].iter().position(|l| l.contains(text)) {
                self.cursor += i + 1;
                return self.seen[self.cursor - 1].clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no new line with {text:?} within {timeout:?}; console:\n{}", self.transcript())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("QEMU ended before a new line with {text:?}; console:\n{}", self.transcript())
                }
            }
        }
    }

    /// The lines after the last one [`Qemu::next_with`] returned, up to and
    /// including the next with `text`.
    pub fn until(&mut self, text: &str, timeout: Duration) -> Vec<String> {
        let from = self.cursor;
        self.next_with(text, timeout);
        self.seen[from..self.cursor].to_vec()
    }

    /// The lines after the last one [`Qemu::next_with`] or this returned,
    /// up to the one by which every text in `texts` appeared (in any
    /// order).
    pub fn until_all(&mut self, texts: &[&str], timeout: Duration) -> Vec<String> {
        let from = self.cursor;
        let mut end = from;
        for text in texts {
            self.cursor = from;
            self.next_with(text, timeout);
            end = end.max(self.cursor);
        }
        self.cursor = end;
        self.seen[from..end].to_vec()
    }

    fn start(args: &[&str], input: bool) -> Qemu {
        let board =
            args.iter().position(|a| *a == "--board").and_then(|i| args.get(i + 1)).unwrap_or(&"qemu-virt");
        let image = root().join("out").join(board).join("Image");
        assert!(image.exists(), "{} missing: run scripts/test (it builds the kernel first)", image.display());
        let mut child = Command::new(root().join("scripts/run"))
            .arg("--no-build")
            .args(args)
            .stdin(if input { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scripts/run");
        let (sender, lines) = channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sender = sender.clone();
            thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if sender.send(line.trim_end_matches('\r').to_string()).is_err() {
                        break;
                    }
                }
            });
        }
        Qemu { child, lines, seen: Vec::new(), cursor: 0 }
    }

    /// Waits for a console line containing `text`; returns it.
    pub fn expect(&mut self, text: &str) -> String {
        self.expect_within(text, BOOT_TIMEOUT)
    }

    /// Waits at most `timeout` for a line containing `text`.
    pub fn expect_within(&mut self, text: &str, timeout: Duration) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no line with {text:?} within {timeout:?}; console:\n{}", self.transcript())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("QEMU ended before a line with {text:?}; console:\n{}", self.transcript())
                }
            }
        }
    }

    /// Waits for QEMU to exit by itself (power-off); fails after the timeout.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + BOOT_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                self.drain();
                return status;
            }
            assert!(Instant::now() < deadline, "QEMU did not power off; console:\n{}", self.transcript());
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the exit and returns the whole console.
    pub fn finish(&mut self) -> String {
        let status = self.wait_exit();
        assert!(status.success(), "QEMU exited with {status}; console:\n{}", self.transcript());
        self.transcript()
    }

    fn drain(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Ok(line) = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            self.seen.push(line);
        }
    }

    /// Everything printed so far.
    pub fn transcript(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The console lines with their `[c<i> <uptime>] ` prefix removed.
pub fn contract_lines(transcript: &str) -> Vec<&str> {
    transcript
        .lines()
        .map(|l| if l.starts_with("[c") { l.split_once("] ").map_or(l, |(_, rest)| rest) } else { l })
        .collect()
}

/// Dumps QEMU virt's own device tree (`-smp smp`) as source text.
pub fn virt_dts(smp: u32, extra_machine: &str) -> String {
    let dir = scratch("dumpdtb");
    let dtb = dir.join(format!("virt-{smp}{extra_machine}.dtb"));
    let status = Command::new("qemu-system-aarch64")
        .args(["-M", &format!("virt,gic-version=3{extra_machine},dumpdtb={}", dtb.display())])
        .args(["-cpu", "cortex-a72", "-smp", &smp.to_string(), "-m", "1G", "-nographic"])
        .stdout(Stdio::null())
        .status()
        .expect("qemu-system-aarch64");
    assert!(status.success(), "dumpdtb failed");
    let out = Command::new("dtc").args(["-q", "-I", "dtb", "-O", "dts"]).arg(&dtb).output().expect("dtc");
    assert!(out.status.success(), "dtc failed");
    String::from_utf8(out.stdout).expect("dts text")
}

/// Compiles device tree source into `name.dtb` in the test's scratch dir.
pub fn compile_dts(test: &str, name: &str, source: &str) -> PathBuf {
    let dir = scratch(test);
    let dts = dir.join(format!("{name}.dts"));
    let dtb = dir.join(format!("{name}.dtb"));
    std::fs::write(&dts, source).expect("write dts");
    let status = Command::new("dtc")
        .args(["-q", "-I", "dts", "-O", "dtb", "-o"])
        .arg(&dtb)
        .arg(&dts)
        .status()
        .expect("dtc");
    assert!(status.success(), "dtc could not compile {}", dts.display());
    dtb
}

/// Rewrites device tree source line by line: `edit(cpu, line)` sees every
/// line with the number of the `cpu@N` node it is in (if any) and returns
/// its replacement.
pub fn edit_cpus(source: &str, mut edit: impl FnMut(Option<u32>, &str) -> String) -> String {
    let mut out = String::new();
    let mut cpu = None;
    for line in source.lines() {
        if let Some(rest) = line.trim().strip_prefix("cpu@") {
            cpu = rest.trim_end_matches(" {").parse::<u32>().ok();
        }
        out.push_str(&edit(cpu, line));
        out.push('\n');
    }
    out
}
