//! Requests no route takes: 405 with `Allow` when the path exists under other methods
//! (known from the OpenAPI document), 404 otherwise; both as problem documents.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::problem::generic;
use crate::web::state::AppState;

/// Whether an OpenAPI path template such as `/api/v1/offers/{id}` matches `path`.
fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

pub async fn not_routed(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let allowed: Vec<String> = state
        .route_methods
        .iter()
        .filter(|(template, _)| template_matches(template, req.path()))
        .flat_map(|(_, methods)| methods.iter().cloned())
        .collect();
    if allowed.is_empty() {
        return generic(
            StatusCode::NOT_FOUND,
            format!("no route for {}", req.path()),
        )
        .response();
    }
    let mut r = generic(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed here; allowed: {}",
            req.method(),
            allowed.join(", ")
        ),
    )
    .response();
    if let Ok(v) = header::HeaderValue::from_str(&allowed.join(", ")) {
        r.headers_mut().insert(header::ALLOW, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::template_matches;

    #[test]
    fn templates() {
        assert!(template_matches("/api/v1/offers/{id}", "/api/v1/offers/12"));
        assert!(!template_matches("/api/v1/offers/{id}", "/api/v1/offers"));
        assert!(!template_matches(
            "/api/v1/offers/{id}",
            "/api/v1/offers/12/archive"
        ));
        assert!(template_matches("/api/v1/offers", "/api/v1/offers/"));
    }
}
