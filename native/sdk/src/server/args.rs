//! Command line of the server binary.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use super::observe::LogFormat;

pub(crate) fn usage(program: &str) -> String {
    format!(
        "usage: {program} --listen unix:PATH|HOST:PORT [--allow-remote] [--workers N] \
         [--parent-pid PID] [--no-death-signal] [--no-parent-watch] \
         [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]] [--log-format text|json] \
         [--log-calls] [--trace-file PATH]\n       \
         {program} --list-workloads"
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listen {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Options {
    pub listen: Listen,
    pub workers: usize,
    /// exit when the parent process goes away (death signal + watchdog)
    pub parent_watch: bool,
    /// set PR_SET_PDEATHSIG (it fires when the parent *thread* exits, so a client that spawns
    /// from a short-lived thread turns it off and relies on the watchdog)
    pub death_signal: bool,
    /// the parent to watch; default: the parent at start
    pub parent_pid: Option<i32>,
    /// serve TLS with this certificate chain and key (PEM files)
    pub tls: Option<Tls>,
    /// stderr lines as text (default) or one JSON object a line
    pub log_format: LogFormat,
    /// a log line per `Run` call
    pub log_calls: bool,
    /// write the spans of calls that carry a sampled W3C traceparent here (OTLP JSON lines)
    pub trace_file: Option<PathBuf>,
}

/// `--tls-cert`, `--tls-key` and, for mutual TLS, `--tls-client-ca` (PEM file paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// clients must present a certificate signed by this CA
    pub client_ca: Option<PathBuf>,
}

/// The TLS options as given: both halves of the identity or neither; a client CA only with
/// an identity (a server cannot ask for client certificates over plaintext).
fn tls_options(
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
) -> Result<Option<Tls>, String> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(Tls {
            cert: cert.into(),
            key: key.into(),
            client_ca: client_ca.map(PathBuf::from),
        })),
        (None, None) if client_ca.is_none() => Ok(None),
        (None, None) => Err("--tls-client-ca needs --tls-cert and --tls-key".into()),
        _ => Err("--tls-cert and --tls-key go together".into()),
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Serve(Options),
    /// `--list-workloads`: print the workload names and exit, without listening (the client
    /// learns what a server binary implements without spawning a server).
    ListWorkloads,
    Help,
}

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Resolve `--listen` and apply the loopback rule.
pub(crate) fn parse_listen(spec: &str, allow_remote: bool) -> Result<Listen, String> {
    if let Some(path) = spec.strip_prefix("unix:") {
        if path.is_empty() {
            return Err("--listen unix: needs a path, e.g. unix:/tmp/hb.sock".into());
        }
        return Ok(Listen::Unix(PathBuf::from(path)));
    }
    let addrs: Vec<SocketAddr> = match spec.parse::<SocketAddr>() {
        Ok(addr) => vec![addr],
        Err(_) => spec
            .to_socket_addrs()
            .map_err(|e| format!("--listen {spec:?}: not unix:PATH or HOST:PORT ({e})"))?
            .collect(),
    };
    let Some(first) = addrs.first().copied() else {
        return Err(format!(
            "--listen {spec:?}: the name resolves to no address"
        ));
    };
    if !allow_remote {
        if let Some(remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(format!(
                "refusing to listen on {remote}, which is not a loopback address: pass \
                 --allow-remote to serve other machines (the server has no authentication)"
            ));
        }
    }
    Ok(Listen::Tcp(first))
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(
    flag: &str,
    value: &str,
    what: &str,
) -> Result<T, String> {
    value
        .parse::<T>()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| format!("{flag} {value:?}: expected {what}"))
}

/// Parse the arguments after the program name; `--flag value` and `--flag=value` both work.
pub(crate) fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut listen = None;
    let mut allow_remote = false;
    let mut list_workloads = false;
    let mut workers = default_workers();
    let mut parent_watch = true;
    let mut death_signal = true;
    let mut parent_pid = None;
    let (mut tls_cert, mut tls_key, mut tls_client_ca) = (None, None, None);
    let (mut log_format, mut log_calls, mut trace_file) = (LogFormat::Text, false, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--listen" => listen = Some(value("--listen")?),
            "--workers" => {
                workers = positive(&flag, &value(&flag)?, "a positive integer")?;
            }
            "--parent-pid" => {
                parent_pid = Some(positive(&flag, &value(&flag)?, "a process id")?);
            }
            "--tls-cert" => tls_cert = Some(value(&flag)?),
            "--tls-key" => tls_key = Some(value(&flag)?),
            "--tls-client-ca" => tls_client_ca = Some(value(&flag)?),
            "--log-format" => log_format = LogFormat::parse(&value(&flag)?)?,
            "--log-calls" => log_calls = true,
            "--trace-file" => trace_file = Some(PathBuf::from(value(&flag)?)),
            "--allow-remote" => allow_remote = true,
            "--list-workloads" => list_workloads = true,
            "--no-death-signal" => death_signal = false,
            "--no-parent-watch" => parent_watch = false,
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if list_workloads {
        return Ok(Command::ListWorkloads);
    }
    let listen = listen.ok_or_else(|| "--listen is required".to_string())?;
    Ok(Command::Serve(Options {
        listen: parse_listen(&listen, allow_remote)?,
        workers,
        parent_watch,
        death_signal,
        parent_pid,
        tls: tls_options(tls_cert, tls_key, tls_client_ca)?,
        log_format,
        log_calls,
        trace_file,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn serve(list: &[&str]) -> Options {
        match parse_args(args(list)) {
            Ok(Command::Serve(options)) => options,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    #[test]
    fn loopback_and_unix_are_accepted() {
        let o = serve(&["--listen", "127.0.0.1:0"]);
        assert_eq!(o.listen, Listen::Tcp("127.0.0.1:0".parse().unwrap()));
        let o = serve(&["--listen=[::1]:5000"]);
        assert_eq!(o.listen, Listen::Tcp("[::1]:5000".parse().unwrap()));
        let o = serve(&["--listen", "unix:/tmp/x.sock", "--workers", "3"]);
        assert_eq!(o.listen, Listen::Unix("/tmp/x.sock".into()));
        assert_eq!(o.workers, 3);
        assert!(o.parent_watch && o.death_signal && o.parent_pid.is_none());
        let o = serve(&[
            "--listen",
            "unix:/x",
            "--parent-pid",
            "7",
            "--no-death-signal",
        ]);
        assert_eq!((o.parent_pid, o.death_signal), (Some(7), false));
        assert!(!serve(&["--listen", "unix:/x", "--no-parent-watch"]).parent_watch);
        serve(&["--listen", "localhost:0"]);
    }

    #[test]
    fn remote_needs_allow_remote() {
        let err = parse_args(args(&["--listen", "0.0.0.0:0"])).unwrap_err();
        assert!(err.contains("--allow-remote"), "{err}");
        let o = serve(&["--listen", "0.0.0.0:0", "--allow-remote"]);
        assert_eq!(o.listen, Listen::Tcp("0.0.0.0:0".parse().unwrap()));
    }

    #[test]
    fn tls_needs_both_halves_of_the_identity() {
        let o = serve(&[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "c.pem",
            "--tls-key=k.pem",
        ]);
        let tls = o.tls.expect("tls");
        assert_eq!((tls.cert, tls.key), ("c.pem".into(), "k.pem".into()));
        assert!(tls.client_ca.is_none());
        let o = serve(&[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "c",
            "--tls-key",
            "k",
            "--tls-client-ca",
            "ca",
        ]);
        assert_eq!(o.tls.unwrap().client_ca, Some("ca".into()));
        let half = parse_args(args(&["--listen", "127.0.0.1:0", "--tls-cert", "c"]));
        assert!(half.unwrap_err().contains("go together"));
        let ca_only = parse_args(args(&["--listen", "127.0.0.1:0", "--tls-client-ca", "ca"]));
        assert!(ca_only.unwrap_err().contains("needs --tls-cert"));
        assert!(serve(&["--listen", "unix:/x"]).tls.is_none());
    }

    #[test]
    fn list_workloads_and_help_need_no_listen() {
        assert_eq!(
            parse_args(args(&["--list-workloads"])),
            Ok(Command::ListWorkloads)
        );
        let both = args(&["--listen", "unix:/x", "--list-workloads"]);
        assert_eq!(parse_args(both), Ok(Command::ListWorkloads));
        assert_eq!(parse_args(args(&["--help"])), Ok(Command::Help));
        assert_eq!(parse_args(args(&["-h", "--bogus"])), Ok(Command::Help));
        assert!(usage("srv").contains("srv --list-workloads"));
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(parse_args(args(&[])).unwrap_err().contains("--listen"));
        assert!(parse_args(args(&["--listen", "unix:"])).is_err());
        assert!(parse_args(args(&["--listen", "nonsense"])).is_err());
        assert!(parse_args(args(&["--listen", "127.0.0.1:0", "--workers", "0"])).is_err());
        assert!(parse_args(args(&["--listen", "unix:/x", "--parent-pid", "-3"])).is_err());
        assert!(parse_args(args(&["--listen"]))
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse_args(args(&["--bogus"]))
            .unwrap_err()
            .contains("--bogus"));
    }

    #[test]
    fn observability_flags_are_parsed() {
        let o = serve(&[
            "--listen",
            "unix:/x",
            "--log-format",
            "json",
            "--log-calls",
            "--trace-file=/tmp/t.jsonl",
        ]);
        assert_eq!(o.log_format, LogFormat::Json);
        assert!(o.log_calls);
        assert_eq!(o.trace_file, Some(PathBuf::from("/tmp/t.jsonl")));
        let o = serve(&["--listen", "unix:/x"]);
        assert_eq!(
            (o.log_format, o.log_calls, o.trace_file),
            (LogFormat::Text, false, None)
        );
        let err = parse_args(args(&["--listen", "unix:/x", "--log-format", "yaml"])).unwrap_err();
        assert!(
            err.contains("--log-format") && err.contains("yaml"),
            "{err}"
        );
    }
}
