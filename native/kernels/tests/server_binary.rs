//! The `hybridbench-server` binary of this crate, as the Python client runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const SERVER: &str = env!("CARGO_BIN_EXE_hybridbench-server");

#[test]
fn list_workloads_prints_the_table_in_order_without_listening() {
    let out = Command::new(SERVER)
        .arg("--list-workloads")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "json\nimage\nthumbnail\ntimeseries\necho\ntext\n"
    );
}

#[test]
fn help_and_bad_arguments() {
    let out = Command::new(SERVER).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("usage: hybridbench-server"));
    let out = Command::new(SERVER)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("--allow-remote"));
}

#[test]
fn announces_its_socket_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("hb-server-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("server.sock");
    let mut child = Command::new(SERVER)
        .args([
            "--listen",
            &format!("unix:{}", socket.display()),
            "--no-parent-watch",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim_end(),
        format!("listening on unix:{}", socket.display())
    );
    assert!(socket.exists());
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success(), "graceful exit, status 0");
    assert!(!socket.exists(), "the socket file is removed");
    let _ = std::fs::remove_dir(&dir);
}
