//! docker-compose.yml cannot be run here (no Docker engine), so this checks what can be:
//! it parses, has PostgreSQL, an SMTP catcher and kyoso, and every setting it passes to
//! kyoso is one kyoso knows and accepts.

use std::collections::BTreeMap;

#[test]
fn compose_file_passes_only_known_settings() {
    let text =
        std::fs::read_to_string(format!("{}/docker-compose.yml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).expect("docker-compose.yml parses");
    let services = doc["services"].as_mapping().expect("services");
    let names: Vec<&str> = services.keys().filter_map(|k| k.as_str()).collect();
    for wanted in ["postgres", "smtp", "kyoso"] {
        assert!(
            names.contains(&wanted),
            "service {wanted} missing: {names:?}"
        );
    }
    let kyoso = &doc["services"]["kyoso"];
    assert!(kyoso["build"]["dockerfile"].as_str().is_some_and(|d| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(d)
            .exists()
    }));
    let env: BTreeMap<String, String> = kyoso["environment"]
        .as_mapping()
        .expect("kyoso.environment is a mapping")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{v:?}")),
            )
        })
        .collect();
    assert!(!env.is_empty());
    for name in env.keys() {
        assert!(
            kyoso::config::SETTINGS.iter().any(|s| s.env == name),
            "docker-compose passes {name}, which kyoso does not know"
        );
    }
    // The values are accepted as settings (the data directory is the container's, so
    // only its shape is checked here).
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

/// Every published port binds to loopback unless the operator says otherwise through
/// KYOSO_PUBLISH (whose default is loopback); the database is never published.
#[test]
fn compose_publishes_on_loopback_only() {
    let text =
        std::fs::read_to_string(format!("{}/docker-compose.yml", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).expect("docker-compose.yml parses");
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
    assert!(published >= 1, "kyoso itself is published");
}

#[test]
fn readme_lists_every_setting() {
    let readme =
        std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for s in kyoso::config::SETTINGS {
        assert!(readme.contains(s.env), "README does not document {}", s.env);
    }
}
