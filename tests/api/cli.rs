//! The `kyoso` binary: help, refused settings, migrate and demo on the embedded default.

use std::process::Command;

use crate::helpers::ScratchDir;

fn kyoso(dir: &ScratchDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kyoso"));
    c.current_dir(&dir.0).env_remove("DATABASE_URL");
    for (k, _) in std::env::vars() {
        if k.starts_with("KYOSO_") {
            c.env_remove(k);
        }
    }
    c
}

fn output(c: &mut Command) -> (bool, String) {
    let o = c.output().unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn help_explains_commands_and_settings() {
    let dir = ScratchDir::new();
    let (ok, text) = output(kyoso(&dir).arg("--help"));
    assert!(ok);
    for word in [
        "serve",
        "migrate",
        "demo",
        "staff",
        "DATABASE_URL",
        "KYOSO_BIND",
        "KYOSO_DATA_DIR",
    ] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let (ok, text) = output(kyoso(&dir).args(["serve", "--help"]));
    assert!(
        ok && text.contains("--bind") && text.contains("--data-dir"),
        "{text}"
    );
}

#[test]
fn invalid_settings_stop_start_up_naming_the_setting() {
    let dir = ScratchDir::new();
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (&["serve", "--bind", "everywhere"], &[], "KYOSO_BIND"),
        (
            &["migrate"],
            &[("DATABASE_URL", "mysql://db/kyoso")],
            "DATABASE_URL",
        ),
        (
            &["migrate"],
            &[("DATABASE_URL", "sqlite:///no/such/dir/k.db")],
            "does not exist",
        ),
        (&["migrate"], &[("KYOSO_POOL_SIZE", "0")], "KYOSO_POOL_SIZE"),
        (
            &["migrate"],
            &[("KYOSO_SMPT_URL", "smtp://x")],
            "KYOSO_SMPT_URL",
        ),
    ];
    for (args, env, expected) in cases {
        let mut c = kyoso(&dir);
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let (ok, text) = output(&mut c);
        assert!(!ok, "{args:?} {env:?} should fail");
        assert!(
            text.contains(expected),
            "{args:?} {env:?}: message lacks {expected}: {text}"
        );
    }
    std::fs::write(dir.0.join("kyoso.toml"), "bindd = \"127.0.0.1:1\"\n").unwrap();
    let (ok, text) = output(kyoso(&dir).arg("migrate"));
    assert!(!ok && text.contains("bindd"), "{text}");
}

#[test]
fn migrate_and_demo_on_the_embedded_default() {
    let dir = ScratchDir::new();
    let (ok, text) = output(kyoso(&dir).arg("migrate"));
    assert!(ok, "{text}");
    assert!(dir.0.join("data/kyoso.sqlite3").exists());
    let (ok, text) = output(kyoso(&dir).arg("demo"));
    assert!(ok, "{text}");
    assert!(text.contains("50 needs"), "{text}");
    let creds = std::fs::read_to_string(dir.0.join("data/demo-credentials.txt")).unwrap();
    assert!(creds.lines().filter(|l| l.contains("kyoso_")).count() >= 10);
    let (ok, text) = output(kyoso(&dir).arg("demo"));
    assert!(!ok && text.contains("already loaded"), "{text}");
    let (ok, text) = output(kyoso(&dir).args([
        "staff",
        "add",
        "--email",
        "new@example.jp",
        "--name",
        "新任 職員",
        "--role",
        "desk",
        "--municipality",
        "141003",
    ]));
    assert!(ok && text.contains("kyoso_"), "{text}");
    let (ok, text) = output(kyoso(&dir).args([
        "staff",
        "add",
        "--email",
        "x@example.jp",
        "--name",
        "x",
        "--role",
        "department",
        "--municipality",
        "141003",
    ]));
    assert!(!ok && text.contains("department_id"), "{text}");
}

/// `kyoso demo` on a fresh data directory (no `migrate` before it) logs no error: the
/// pool's connections used to race to switch the new SQLite file to WAL, and r2d2 logged
/// "ERROR r2d2 database is locked" for each loser while the demo still loaded. The race
/// is a matter of timing, so the command runs a few times.
#[test]
fn demo_on_a_fresh_directory_logs_no_error() {
    for _ in 0..3 {
        let dir = ScratchDir::new();
        let o = kyoso(&dir).arg("demo").output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        assert!(
            !stderr.lines().any(|l| l.contains("ERROR")),
            "kyoso demo logged an error:\n{stderr}"
        );
    }
}

/// `kyoso demo` refuses a database that holds anything it did not create — here one
/// deployment admin added by hand — with a clear message and its own exit code, and
/// changes nothing.
#[test]
fn demo_refuses_a_database_with_real_data() {
    let dir = ScratchDir::new();
    let (ok, text) = output(kyoso(&dir).args([
        "staff",
        "add",
        "--email",
        "admin@city.example.org",
        "--name",
        "本番 管理者",
        "--role",
        "admin",
    ]));
    assert!(ok, "{text}");
    let o = kyoso(&dir).arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(i32::from(kyoso::demo::Refused::EXIT_CODE)),
        "{text}"
    );
    assert!(
        text.contains("デモ以外のデータ") && text.contains("1 staff accounts"),
        "{text}"
    );
    assert!(!dir.0.join("data/demo-credentials.txt").exists());
    // Nothing of the demo was written: the same refusal again, not "already loaded".
    let o = kyoso(&dir).arg("demo").output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 staff accounts"));
}

/// A plain SMTP connection must be asked for by name, and the process says at start-up
/// that it sends without TLS; smtp:// gives no such warning (it insists on STARTTLS).
#[test]
fn plain_smtp_is_warned_about_at_start_up() {
    let dir = ScratchDir::new();
    let (ok, text) = output(kyoso(&dir).arg("migrate"));
    assert!(ok, "{text}");
    for (url, warned) in [
        ("smtp+plain://127.0.0.1:1", true),
        ("smtp://user:hunter2@127.0.0.1:1", false),
    ] {
        let (ok, text) = output(
            kyoso(&dir)
                .args(["mail", "send"])
                .env("KYOSO_SMTP_URL", url)
                .env("KYOSO_LOG", "warn"),
        );
        assert!(ok, "{url}: {text}");
        assert_eq!(text.contains("without TLS"), warned, "{url}: {text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
