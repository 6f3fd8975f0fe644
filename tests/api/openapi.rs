//! The OpenAPI document is generated from the code and lists every route a handler
//! declares; a handler registered outside the documented scope makes this test fail.

use crate::helpers::{Backend, TestApp};

fn declared_routes() -> Vec<(String, String)> {
    let dir = format!("{}/src/api", env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let path = rest.split('"').next().unwrap().to_owned();
                    out.push((method.to_owned(), path));
                }
            }
        }
    }
    out.sort();
    out
}

#[actix_web::test]
async fn every_declared_route_is_documented() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(
        doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc.body["openapi"]
    );
    let paths = doc.body["paths"].as_object().unwrap();
    let routes = declared_routes();
    assert!(routes.len() >= 30, "found only {} routes", routes.len());
    for (method, path) in &routes {
        let documented = [path.clone(), format!("/api/v1{path}")].iter().any(|p| {
            paths
                .get(p)
                .is_some_and(|item| item.get(method.as_str()).is_some())
        });
        assert!(
            documented,
            "{} {path} is not in the OpenAPI document",
            method.to_uppercase()
        );
    }
    // And every documented operation answers (not with "no route").
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "1").replace("{code}", "141003");
            let m = awc::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app.call(m, &concrete, None, None).await;
            let no_route = r.status == 404
                && r.body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("no route");
            assert!(
                !no_route && r.status != 405,
                "{method} {path} is documented but not routed: {}",
                r.text
            );
        }
    }
    // Problem documents and the bearer scheme are described.
    assert!(doc.body["components"]["schemas"]["Problem"].is_object());
    assert!(doc.body["components"]["securitySchemes"]["api_key"].is_object());
}
