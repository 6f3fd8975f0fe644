//! Typed settings. Each setting has one name and comes from, lowest first: its default,
//! kyoso.toml, a `KYOSO_*` environment variable (plus `DATABASE_URL`), a command-line
//! flag. Unknown keys and unknown `KYOSO_*` variables are refused, so a typo never
//! silently falls back to a default. Secrets are wrapped so they never print.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::storage::connection::{DatabaseTarget, default_sqlite_path};

/// A value that must not reach logs or error messages.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One documented setting: its key in kyoso.toml, its environment variable and meaning.
pub struct SettingDoc {
    pub key: &'static str,
    pub env: &'static str,
    pub help: &'static str,
}

/// Every setting kyoso knows. The README table, `kyoso --help` and the docker-compose
/// test are all checked against this list.
pub const SETTINGS: &[SettingDoc] = &[
    SettingDoc {
        key: "database_url",
        env: "DATABASE_URL",
        help: "postgres://USER:PASS@HOST/DB, or sqlite://PATH; default: sqlite file DATA_DIR/kyoso.sqlite3",
    },
    SettingDoc {
        key: "data_dir",
        env: "KYOSO_DATA_DIR",
        help: "directory for the SQLite file, search index, dictionary cache and mail files; default ./data",
    },
    SettingDoc {
        key: "bind",
        env: "KYOSO_BIND",
        help: "address and port to listen on; default 127.0.0.1:8080",
    },
    SettingDoc {
        key: "public_url",
        env: "KYOSO_PUBLIC_URL",
        help: "base URL used in links in mails; default http://BIND",
    },
    SettingDoc {
        key: "pool_size",
        env: "KYOSO_POOL_SIZE",
        help: "database connections per process, 1..=64; default 8",
    },
    SettingDoc {
        key: "log",
        env: "KYOSO_LOG",
        help: "log filter, e.g. info or kyoso=debug; default info",
    },
    SettingDoc {
        key: "smtp_url",
        env: "KYOSO_SMTP_URL",
        help: "smtp://USER:PASS@HOST:PORT (STARTTLS required), smtps://… (TLS) or smtp+plain://… (no TLS, warned at start-up); default: mail written as .eml files under DATA_DIR/mail",
    },
    SettingDoc {
        key: "mail_from",
        env: "KYOSO_MAIL_FROM",
        help: "sender of kyoso's mail; default \"kyoso <noreply@kyoso.invalid>\"",
    },
    SettingDoc {
        key: "ipadic_dir",
        env: "KYOSO_IPADIC_DIR",
        help: "IPADIC source directory (Debian package mecab-ipadic); default /usr/share/mecab/dic/ipadic",
    },
    SettingDoc {
        key: "digest_time",
        env: "KYOSO_DIGEST_TIME",
        help: "local time (Asia/Tokyo) when daily and weekly digests go out, HH:MM; default 08:00",
    },
    SettingDoc {
        key: "digest_weekday",
        env: "KYOSO_DIGEST_WEEKDAY",
        help: "weekday of the weekly digest: mon … sun; default mon",
    },
    SettingDoc {
        key: "match_alert_threshold",
        env: "KYOSO_MATCH_ALERT_THRESHOLD",
        help: "normalised match score (0–1) from which a new need or offer is alerted; default 0.35",
    },
    SettingDoc {
        key: "mail_retention_days",
        env: "KYOSO_MAIL_RETENTION_DAYS",
        help: "days a delivered mail (its body holds names and addresses) stays in the outbox, 1..=3650; default 90",
    },
    SettingDoc {
        key: "proposals_per_hour",
        env: "KYOSO_PROPOSALS_PER_HOUR",
        help: "proposals one source address, and one partner, may submit per hour, 0 for no limit; default 30",
    },
    SettingDoc {
        key: "registrations_per_hour",
        env: "KYOSO_REGISTRATIONS_PER_HOUR",
        help: "partner registrations per hour from one source address, 0 for no limit; default 5",
    },
    SettingDoc {
        key: "trusted_proxies",
        env: "KYOSO_TRUSTED_PROXIES",
        help: "addresses or ranges of proxies (HAProxy) whose X-Forwarded-For names the client, comma-separated, e.g. 10.0.0.0/8; default none: the TCP peer is the source",
    },
];

/// The settings file's shape; every field optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub database_url: Option<Secret>,
    pub data_dir: Option<PathBuf>,
    pub bind: Option<String>,
    pub public_url: Option<String>,
    pub pool_size: Option<u32>,
    pub log: Option<String>,
    pub smtp_url: Option<Secret>,
    pub mail_from: Option<String>,
    pub ipadic_dir: Option<PathBuf>,
    pub digest_time: Option<String>,
    pub digest_weekday: Option<String>,
    pub match_alert_threshold: Option<f32>,
    pub mail_retention_days: Option<u32>,
    pub proposals_per_hour: Option<u32>,
    pub registrations_per_hour: Option<u32>,
    pub trusted_proxies: Option<String>,
}

impl Layer {
    /// Later layers win field by field.
    fn over(self, lower: Layer) -> Layer {
        Layer {
            database_url: self.database_url.or(lower.database_url),
            data_dir: self.data_dir.or(lower.data_dir),
            bind: self.bind.or(lower.bind),
            public_url: self.public_url.or(lower.public_url),
            pool_size: self.pool_size.or(lower.pool_size),
            log: self.log.or(lower.log),
            smtp_url: self.smtp_url.or(lower.smtp_url),
            mail_from: self.mail_from.or(lower.mail_from),
            ipadic_dir: self.ipadic_dir.or(lower.ipadic_dir),
            digest_time: self.digest_time.or(lower.digest_time),
            digest_weekday: self.digest_weekday.or(lower.digest_weekday),
            match_alert_threshold: self.match_alert_threshold.or(lower.match_alert_threshold),
            mail_retention_days: self.mail_retention_days.or(lower.mail_retention_days),
            proposals_per_hour: self.proposals_per_hour.or(lower.proposals_per_hour),
            registrations_per_hour: self.registrations_per_hour.or(lower.registrations_per_hour),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
        }
    }

    /// Reads the environment given as a map (so tests need not touch the process's).
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Layer, ConfigError> {
        for name in env.keys() {
            let known = SETTINGS.iter().any(|s| s.env == name)
                || name == "KYOSO_CONFIG"
                || name == "KYOSO_DATABASE_URL";
            // KYOSO_TEST_* belong to the test harness, not to the service.
            if name.starts_with("KYOSO_") && !known && !name.starts_with("KYOSO_TEST_") {
                return Err(ConfigError::Unknown(format!("environment variable {name}")));
            }
        }
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        let pool_size = match get("KYOSO_POOL_SIZE") {
            None => None,
            Some(v) => Some(
                v.parse()
                    .map_err(|_| ConfigError::invalid("KYOSO_POOL_SIZE", "must be a number"))?,
            ),
        };
        let match_alert_threshold = match get("KYOSO_MATCH_ALERT_THRESHOLD") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| {
                ConfigError::invalid(
                    "KYOSO_MATCH_ALERT_THRESHOLD",
                    "must be a number between 0 and 1",
                )
            })?),
        };
        let mail_retention_days = match get("KYOSO_MAIL_RETENTION_DAYS") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| {
                ConfigError::invalid("KYOSO_MAIL_RETENTION_DAYS", "must be a number of days")
            })?),
        };
        let per_hour = |name: &str| match get(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ConfigError::invalid(name, "must be a number (0 for no limit)")),
        };
        let proposals_per_hour = per_hour("KYOSO_PROPOSALS_PER_HOUR")?;
        let registrations_per_hour = per_hour("KYOSO_REGISTRATIONS_PER_HOUR")?;
        Ok(Layer {
            database_url: get("KYOSO_DATABASE_URL")
                .or_else(|| get("DATABASE_URL"))
                .map(Secret),
            data_dir: get("KYOSO_DATA_DIR").map(PathBuf::from),
            bind: get("KYOSO_BIND"),
            public_url: get("KYOSO_PUBLIC_URL"),
            pool_size,
            log: get("KYOSO_LOG"),
            smtp_url: get("KYOSO_SMTP_URL").map(Secret),
            mail_from: get("KYOSO_MAIL_FROM"),
            ipadic_dir: get("KYOSO_IPADIC_DIR").map(PathBuf::from),
            digest_time: get("KYOSO_DIGEST_TIME"),
            digest_weekday: get("KYOSO_DIGEST_WEEKDAY"),
            match_alert_threshold,
            mail_retention_days,
            proposals_per_hour,
            registrations_per_hour,
            trusted_proxies: get("KYOSO_TRUSTED_PROXIES"),
        })
    }

    pub fn from_toml(text: &str, origin: &Path) -> Result<Layer, ConfigError> {
        toml::from_str(text)
            .map_err(|e| ConfigError::File(origin.display().to_string(), e.message().to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("setting {0}: {1}")]
    Invalid(String, String),
    #[error("unknown setting: {0} (see `kyoso --help` for the list)")]
    Unknown(String),
    #[error("settings file {0}: {1}")]
    File(String, String),
}

impl ConfigError {
    fn invalid(name: &str, why: impl Into<String>) -> Self {
        Self::Invalid(name.to_owned(), why.into())
    }
}

/// What the service runs with, every value checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseTarget,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub public_url: String,
    pub pool_size: u32,
    pub log: String,
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub ipadic_dir: PathBuf,
    /// When digests go out (Japan time).
    pub digest: crate::domain::notifications::digest::Schedule,
    pub match_alert_threshold: f32,
    pub mail_retention_days: u32,
    /// The API's per-source and per-partner write limits.
    pub limits: crate::domain::throttle::Limits,
}

impl Settings {
    /// Builds settings from the layers. `create_data_dir` makes the default data
    /// directory when it is missing (for `serve`, `migrate`, `demo`).
    pub fn resolve(
        file: Layer,
        env: Layer,
        flags: Layer,
        create_data_dir: bool,
    ) -> Result<Settings, ConfigError> {
        let l = flags.over(env.over(file));
        let data_dir = l.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        if create_data_dir {
            std::fs::create_dir_all(&data_dir).map_err(|e| {
                ConfigError::invalid(
                    "data_dir (KYOSO_DATA_DIR)",
                    format!("cannot create {}: {e}", data_dir.display()),
                )
            })?;
        }
        let database = match &l.database_url {
            Some(url) => DatabaseTarget::parse(url.expose())
                .map_err(|e| ConfigError::invalid("database_url (DATABASE_URL)", e.to_string()))?,
            // The default file lives in the data directory, which `serve` creates.
            None => DatabaseTarget::Sqlite(default_sqlite_path(&data_dir)),
        };
        let bind_text = l.bind.unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            ConfigError::invalid(
                "bind (KYOSO_BIND, --bind)",
                format!("`{bind_text}` is not ADDRESS:PORT, e.g. 127.0.0.1:8080"),
            )
        })?;
        let pool_size = l.pool_size.unwrap_or(8);
        if !(1..=64).contains(&pool_size) {
            return Err(ConfigError::invalid(
                "pool_size (KYOSO_POOL_SIZE)",
                "must be between 1 and 64",
            ));
        }
        let public_url = l.public_url.unwrap_or_else(|| format!("http://{bind}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "public_url (KYOSO_PUBLIC_URL)",
                "must start with http:// or https://",
            ));
        }
        if let Some(smtp) = &l.smtp_url {
            let ok = ["smtp://", "smtps://", "smtp+plain://"]
                .iter()
                .any(|p| smtp.expose().starts_with(p));
            if !ok {
                return Err(ConfigError::invalid(
                    "smtp_url (KYOSO_SMTP_URL)",
                    "must start with smtp://, smtps:// or smtp+plain://",
                ));
            }
        }
        let mail_from = l
            .mail_from
            .unwrap_or_else(|| "kyoso <noreply@kyoso.invalid>".into());
        if !mail_from.contains('@') {
            return Err(ConfigError::invalid(
                "mail_from (KYOSO_MAIL_FROM)",
                "must contain an e-mail address",
            ));
        }
        let time = l.digest_time.unwrap_or_else(|| "08:00".into());
        let (hour, minute) = time
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
            .filter(|(h, m)| *h < 24 && *m < 60)
            .ok_or_else(|| {
                ConfigError::invalid(
                    "digest_time (KYOSO_DIGEST_TIME)",
                    format!("`{time}` is not HH:MM, e.g. 08:00"),
                )
            })?;
        let day = l.digest_weekday.unwrap_or_else(|| "mon".into());
        let weekday: chrono::Weekday = day.parse().map_err(|_| {
            ConfigError::invalid(
                "digest_weekday (KYOSO_DIGEST_WEEKDAY)",
                format!("`{day}` is not a weekday like mon"),
            )
        })?;
        let digest = crate::domain::notifications::digest::Schedule {
            hour,
            minute,
            weekday,
        };
        let match_alert_threshold = l
            .match_alert_threshold
            .unwrap_or(crate::domain::notifications::alerts::DEFAULT_THRESHOLD);
        if !(0.0..=1.0).contains(&match_alert_threshold) {
            return Err(ConfigError::invalid(
                "match_alert_threshold (KYOSO_MATCH_ALERT_THRESHOLD)",
                "must be between 0 and 1",
            ));
        }
        let mail_retention_days = l.mail_retention_days.unwrap_or(90);
        if !(1..=3650).contains(&mail_retention_days) {
            return Err(ConfigError::invalid(
                "mail_retention_days (KYOSO_MAIL_RETENTION_DAYS)",
                "must be between 1 and 3650",
            ));
        }
        let mut limits = crate::domain::throttle::Limits::default();
        if let Some(n) = l.proposals_per_hour {
            limits.proposals_per_source = crate::domain::throttle::Limit::hourly(n);
            limits.proposals_per_partner = crate::domain::throttle::Limit::hourly(n);
        }
        if let Some(n) = l.registrations_per_hour {
            limits.registrations_per_source = crate::domain::throttle::Limit::hourly(n);
        }
        if let Some(list) = &l.trusted_proxies {
            limits.trusted_proxies = list.parse().map_err(|e: String| {
                ConfigError::invalid("trusted_proxies (KYOSO_TRUSTED_PROXIES)", e)
            })?;
        }
        Ok(Settings {
            database,
            data_dir,
            bind,
            public_url: public_url.trim_end_matches('/').to_owned(),
            pool_size,
            log: l.log.unwrap_or_else(|| "info".into()),
            smtp_url: l.smtp_url,
            mail_from,
            ipadic_dir: l
                .ipadic_dir
                .unwrap_or_else(|| PathBuf::from("/usr/share/mecab/dic/ipadic")),
            digest,
            match_alert_threshold,
            mail_retention_days,
            limits,
        })
    }

    /// Loads kyoso.toml (from `config_path`, or ./kyoso.toml when present), the process
    /// environment and the flags.
    pub fn load(
        config_path: Option<&Path>,
        flags: Layer,
        create_data_dir: bool,
    ) -> Result<Settings, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let path = config_path
            .map(Path::to_path_buf)
            .or_else(|| env.get("KYOSO_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("kyoso.toml")).filter(|p| p.exists()));
        let file = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| ConfigError::File(p.display().to_string(), e.to_string()))?;
                Layer::from_toml(&text, &p)?
            }
            None => Layer::default(),
        };
        Self::resolve(file, Layer::from_env(&env)?, flags, create_data_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file = Layer::from_toml(
            "bind = \"127.0.0.1:1000\"\npool_size = 3\n",
            Path::new("kyoso.toml"),
        )
        .unwrap();
        let env = Layer::from_env(&env(&[("KYOSO_BIND", "127.0.0.1:2000")])).unwrap();
        let flags = Layer {
            bind: Some("127.0.0.1:3000".into()),
            ..Layer::default()
        };
        let s = Settings::resolve(file, env, flags, false).unwrap();
        assert_eq!(s.bind.port(), 3000);
        assert_eq!(s.pool_size, 3);
    }

    #[test]
    fn write_limits_come_from_the_settings() {
        use crate::domain::throttle::{Limit, Limits};
        let resolve = |pairs: &[(&str, &str)]| {
            Settings::resolve(
                Layer::default(),
                Layer::from_env(&env(pairs)).unwrap(),
                Layer::default(),
                false,
            )
            .unwrap()
            .limits
        };
        let defaults = resolve(&[]);
        assert_eq!(
            defaults.proposals_per_source,
            Limits::default().proposals_per_source
        );
        let off = resolve(&[
            ("KYOSO_PROPOSALS_PER_HOUR", "0"),
            ("KYOSO_REGISTRATIONS_PER_HOUR", "0"),
        ]);
        assert_eq!(off.proposals_per_source, Limit::UNLIMITED);
        assert_eq!(off.proposals_per_partner, Limit::UNLIMITED);
        assert_eq!(off.registrations_per_source, Limit::UNLIMITED);
        let some = resolve(&[("KYOSO_PROPOSALS_PER_HOUR", "120")]);
        assert_eq!(some.proposals_per_source.max, 120);
        let e = Layer::from_env(&env(&[("KYOSO_PROPOSALS_PER_HOUR", "-1")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("KYOSO_PROPOSALS_PER_HOUR"), "{e}");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = Settings::resolve(
            Layer::default(),
            Layer::from_env(&env(&[("KYOSO_BIND", "nowhere")])).unwrap(),
            Layer::default(),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("KYOSO_BIND"), "{e}");
        let e = Layer::from_env(&env(&[("KYOSO_BINDD", "x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("KYOSO_BINDD"), "{e}");
        let e = Layer::from_toml("bnd = 1", Path::new("kyoso.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bnd"), "{e}");
        let e = Settings::resolve(
            Layer::default(),
            Layer::from_env(&env(&[("DATABASE_URL", "mysql://x")])).unwrap(),
            Layer::default(),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("DATABASE_URL") && e.contains("mysql"), "{e}");
    }

    #[test]
    fn secrets_do_not_print() {
        let l = Layer {
            smtp_url: Some(Secret::new("smtp://u:hunter2@h")),
            ..Layer::default()
        };
        assert!(!format!("{l:?}").contains("hunter2"));
    }
}
