//! docker-compose.yml cannot be run here (no Docker engine), so this checks what can be:
//! it parses, has PostgreSQL, an SMTP catcher, two kyoso nodes or more and HAProxy in
//! front of them; every setting it passes to kyoso is one kyoso knows and accepts; each
//! node keeps its own index and stops gracefully; HAProxy checks /readyz, knows every
//! node, and `haproxy -c` accepts its configuration.

use std::collections::BTreeMap;

/// The compose file, parsed (anchors and aliases resolved by the parser).
fn compose() -> serde_yaml_ng::Value {
    let text =
        std::fs::read_to_string(format!("{}/docker-compose.yml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    serde_yaml_ng::from_str(&text).expect("docker-compose.yml parses")
}

/// The kyoso nodes: every service whose name starts with `kyoso`.
fn nodes(doc: &serde_yaml_ng::Value) -> Vec<(String, serde_yaml_ng::Value)> {
    doc["services"]
        .as_mapping()
        .expect("services")
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())))
        .filter(|(k, _)| k.starts_with("kyoso"))
        .collect()
}

fn environment(node: &serde_yaml_ng::Value) -> BTreeMap<String, String> {
    node["environment"]
        .as_mapping()
        .expect("a node's environment is a mapping")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{v:?}")),
            )
        })
        .collect()
}

#[test]
fn compose_file_passes_only_known_settings() {
    let doc = compose();
    let services = doc["services"].as_mapping().expect("services");
    let names: Vec<&str> = services.keys().filter_map(|k| k.as_str()).collect();
    for wanted in ["postgres", "smtp", "haproxy"] {
        assert!(
            names.contains(&wanted),
            "service {wanted} missing: {names:?}"
        );
    }
    let nodes = nodes(&doc);
    assert!(nodes.len() >= 2, "two kyoso nodes at least: {names:?}");
    for (name, node) in &nodes {
        assert!(
            node["build"]["dockerfile"].as_str().is_some_and(|d| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(d)
                    .exists()
            }),
            "{name} is built from the Dockerfile"
        );
        let env = environment(node);
        assert!(!env.is_empty());
        for key in env.keys() {
            assert!(
                kyoso::config::SETTINGS.iter().any(|s| s.env == key),
                "docker-compose passes {key} to {name}, which kyoso does not know"
            );
        }
        // The values are accepted as settings (the data directory is the container's,
        // so only its shape is checked here).
        let mut env = env;
        env.remove("KYOSO_DATA_DIR");
        let layer = kyoso::config::Layer::from_env(&env).expect("compose settings parse");
        let settings = kyoso::config::Settings::resolve(
            kyoso::config::Layer::default(),
            layer,
            kyoso::config::Layer::default(),
            false,
        )
        .expect("compose settings are valid");
        assert_eq!(settings.database.backend_name(), "postgresql");
        assert!(settings.smtp_url.is_some());
    }
}

/// "45s", "1m30s" in seconds.
fn seconds(duration: &str) -> u64 {
    let (mut total, mut n) = (0, 0);
    for c in duration.chars() {
        match c {
            '0'..='9' => n = n * 10 + u64::from(c.to_digit(10).unwrap()),
            'h' => (total, n) = (total + n * 3600, 0),
            'm' => (total, n) = (total + n * 60, 0),
            's' => (total, n) = (total + n, 0),
            other => panic!("unexpected {other:?} in the duration {duration:?}"),
        }
    }
    assert_eq!(n, 0, "a duration without its unit: {duration:?}");
    total
}

/// Two (or more) nodes that differ only in their name and their own index volume, each
/// stopped gracefully, behind an HAProxy that checks /readyz and knows every node and
/// nothing else; HAProxy's own check accepts its configuration.
#[test]
fn compose_runs_the_nodes_behind_haproxy() {
    let doc = compose();
    let nodes = nodes(&doc);
    let first_env = environment(&nodes[0].1);
    let data_dir = first_env["KYOSO_DATA_DIR"].clone();
    let port = first_env["KYOSO_BIND"]
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let mut volumes = vec![];
    for (name, node) in &nodes {
        assert_eq!(
            environment(node),
            first_env,
            "{name} is configured as the others"
        );
        assert!(
            node["ports"].is_null(),
            "{name} is reached through HAProxy only"
        );
        // Each node its own search index: a named volume on the data directory.
        let mounts: Vec<&str> = node["volumes"]
            .as_sequence()
            .map(|v| v.iter().filter_map(|m| m.as_str()).collect())
            .unwrap_or_default();
        let volume = mounts
            .iter()
            .find_map(|m| m.strip_suffix(&format!(":{data_dir}")))
            .unwrap_or_else(|| panic!("{name} keeps {data_dir} in a volume: {mounts:?}"));
        assert!(
            doc["volumes"].as_mapping().unwrap().contains_key(volume),
            "{volume} is a named volume"
        );
        volumes.push(volume.to_owned());
        // Longer than kyoso's own grace for requests in flight, so SIGKILL never cuts
        // a request or the jobs' shutdown short.
        let grace = node["stop_grace_period"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has a stop_grace_period"));
        assert!(
            seconds(grace) >= kyoso::app::SHUTDOWN_GRACE_SECS + 10,
            "{name}: stop_grace_period {grace}"
        );
        let check = format!("{:?}", node["healthcheck"]["test"]);
        assert!(check.contains("/readyz"), "{name}: {check}");
    }
    volumes.sort();
    volumes.dedup();
    assert_eq!(volumes.len(), nodes.len(), "no two nodes share an index");

    // HAProxy: its configuration is a file of this repository.
    let haproxy = &doc["services"]["haproxy"];
    let mount = haproxy["volumes"]
        .as_sequence()
        .and_then(|v| {
            v.iter()
                .filter_map(|m| m.as_str())
                .find(|m| m.contains("haproxy.cfg"))
        })
        .expect("the HAProxy configuration is mounted");
    let file = mount.split(':').next().unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let cfg = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let lines: Vec<&str> = cfg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for wanted in [
        "option httpchk",
        "http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host kyoso",
        "http-check expect status 200",
        "option redispatch 1",
    ] {
        assert!(lines.contains(&wanted), "haproxy.cfg lacks {wanted:?}");
    }
    assert!(
        lines.iter().any(|l| l.starts_with("default-server check ")),
        "every server is checked"
    );
    let mut servers: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("server "))
        .collect();
    servers.sort();
    let mut wanted: Vec<String> = nodes
        .iter()
        .map(|(name, _)| format!("{name} {name}:{port}"))
        .collect();
    wanted.sort();
    assert_eq!(
        servers, wanted,
        "HAProxy sends to every node and only to them"
    );
    // What HAProxy listens on is what the compose file publishes.
    let bind = lines
        .iter()
        .find_map(|l| l.strip_prefix("bind :"))
        .expect("a frontend bind");
    let published = format!("{:?}", haproxy["ports"]);
    assert!(published.contains(&format!(":{bind}\"")), "{published}");

    // HAProxy's own check, when it is installed (Debian's haproxy); names of nodes do
    // not resolve outside Docker's network, which it only warns about.
    match std::process::Command::new("haproxy")
        .args(["-c", "-f"])
        .arg(&path)
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "haproxy -c: {text}");
            for line in text
                .lines()
                .filter(|l| l.contains("[WARNING]") || l.contains("[ALERT]"))
            {
                assert!(
                    line.contains("could not resolve address"),
                    "haproxy -c: {line}"
                );
            }
        }
        Err(e) => eprintln!("haproxy -c not run ({e}); apt-get install haproxy to run it"),
    }
}

/// Every published port binds to loopback unless the operator says otherwise through
/// KYOSO_PUBLISH (whose default is loopback); the database is never published.
#[test]
fn compose_publishes_on_loopback_only() {
    let doc = compose();
    let services = doc["services"].as_mapping().expect("services");
    assert!(
        doc["services"]["postgres"]["ports"].is_null(),
        "PostgreSQL must not be published"
    );
    let mut published = 0;
    for (name, service) in services {
        let Some(ports) = service["ports"].as_sequence() else {
            continue;
        };
        for port in ports {
            // Long syntax (a mapping) must name host_ip; short syntax must start with it.
            let host_ip = match port {
                serde_yaml_ng::Value::Mapping(m) => m
                    .get("host_ip")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .unwrap_or_default(),
                other => {
                    let s = other.as_str().map(str::to_owned).unwrap_or_default();
                    // HOST_IP:HOST_PORT:CONTAINER_PORT; a bare "8080:8080" binds everywhere.
                    let parts: Vec<&str> = s.rsplitn(3, ':').collect();
                    if parts.len() == 3 {
                        parts[2].to_owned()
                    } else {
                        String::new()
                    }
                }
            };
            assert!(
                host_ip == "127.0.0.1" || host_ip == "${KYOSO_PUBLISH:-127.0.0.1}",
                "{name:?} publishes {port:?} beyond loopback"
            );
            published += 1;
        }
    }
    assert!(published >= 1, "kyoso (through HAProxy) is published");
}

#[test]
fn readme_lists_every_setting() {
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for s in kyoso::config::SETTINGS {
        assert!(readme.contains(s.env), "README does not document {}", s.env);
    }
}
