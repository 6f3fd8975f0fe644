//! The application factory shared by `kyoso serve` and the tests: state, extractor
//! limits and error shapes, middleware, routes; and the HTTP server itself.

use actix_web::error::{InternalError, JsonPayloadError};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, Logger};
use actix_web::{App, HttpRequest, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;

use crate::api::problem::{self, Problem, generic};
use crate::api::routes;
use crate::domain::Db;
use crate::domain::error::{ErrorCode, FieldError};
use crate::domain::health::JobBoard;
use crate::domain::search::SearchEngine;
use crate::web::state::AppState;

pub use crate::web::MAX_BODY_BYTES;

/// The OpenAPI document of every registered route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes::register(App::new()).1
}

pub fn state(db: Db, search: SearchEngine, jobs: JobBoard) -> web::Data<AppState> {
    state_with(db, search, jobs, crate::domain::throttle::Limits::default())
}

/// [`state`] with chosen abuse limits (tests that load the API from one address).
pub fn state_with(
    db: Db,
    search: SearchEngine,
    jobs: JobBoard,
    limits: crate::domain::throttle::Limits,
) -> web::Data<AppState> {
    let doc = openapi();
    let route_methods = doc
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            (
                path.clone(),
                methods
                    .iter()
                    .filter(|(_, on)| *on)
                    .map(|(m, _)| (*m).to_owned())
                    .collect(),
            )
        })
        .collect();
    #[expect(
        clippy::expect_used,
        reason = "the document is built from the route table alone (no request data); \
                  serde_json fails only on maps with non-string keys, which utoipa's \
                  OpenApi type does not have, and tests/api/openapi.rs serialises it"
    )]
    let json = doc.to_json().expect("the OpenAPI document serialises");
    web::Data::new(AppState {
        db,
        search,
        jobs,
        openapi_json: Arc::new(json),
        route_methods: Arc::new(route_methods),
        guards: Arc::new(crate::domain::throttle::Guards::new(limits)),
    })
}

/// Turns serde's message about a body into field errors where it names a field.
fn field_errors(message: &str) -> Vec<FieldError> {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(f) = named("missing field `") {
        vec![FieldError::new(f, "required", "is required")]
    } else if let Some(f) = named("unknown field `") {
        vec![FieldError::new(
            f,
            "unknown_field",
            "is not a field of this request",
        )]
    } else {
        vec![]
    }
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let (status, detail, errors) = match &err {
        JsonPayloadError::ContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as Content-Type: application/json".to_owned(),
            vec![],
        ),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            vec![],
        ),
        JsonPayloadError::Deserialize(e) => {
            let msg = e.to_string();
            let errors = field_errors(&msg);
            (
                StatusCode::BAD_REQUEST,
                format!("the JSON body does not fit this request: {msg}"),
                errors,
            )
        }
        other => (
            StatusCode::BAD_REQUEST,
            format!("the body could not be read: {other}"),
            vec![],
        ),
    };
    let mut p = Problem::new(status, ErrorCode::Invalid, detail);
    p.errors = errors;
    InternalError::from_response(err, p.response()).into()
}

fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let msg = err.to_string();
    let mut p = Problem::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::Invalid,
        format!("the query string is invalid: {msg}"),
    );
    p.errors = field_errors(msg.trim_start_matches("Query deserialize error: "));
    InternalError::from_response(err, p.response()).into()
}

fn path_error(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    let p = generic(
        StatusCode::NOT_FOUND,
        format!("no such resource: {}", req.path()),
    );
    InternalError::from_response(err, p.response()).into()
}

/// The access log: who, which method and path, the outcome and the time taken. The
/// query string is left out because links carry secrets there (the unsubscribe token);
/// keys travel in headers, which are not logged either.
fn access_log() -> Logger {
    Logger::new("%a \"%{request}xi\" %s %b %Dms").custom_request_replace("request", request_line)
}

/// The request line for the access log: method, path and version, never the query
/// (invitation, verification and unsubscribe links carry their secret there).
fn request_line(req: &actix_web::dev::ServiceRequest) -> String {
    format!("{} {} {:?}", req.method(), req.path(), req.version())
}

/// Builds the app around `state`; called once per server worker.
pub fn build(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let app = App::new()
        .app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY_BYTES)
                .content_type_required(true)
                .error_handler(json_error),
        )
        .app_data(web::PayloadConfig::default().limit(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(crate::console::configure);
    let (app, _doc) = routes::register(app);
    app.wrap(ErrorHandlers::new().default_handler(problem::catch_all))
        .wrap(actix_web::middleware::from_fn(crate::security_headers::add))
        .wrap(actix_web::middleware::from_fn(note_request))
        .wrap(access_log())
}

/// Notes that a request other than a probe started, so a draining server knows when
/// the load balancer has stopped sending (`commands::serve`).
async fn note_request(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if !matches!(req.path(), "/readyz" | "/healthz")
        && let Some(state) = req.app_data::<web::Data<AppState>>()
    {
        state.jobs.request_started();
    }
    next.call(req).await
}

/// How long a stopping server lets requests in flight finish before it drops them.
pub const SHUTDOWN_GRACE_SECS: u64 = 30;

/// The server on an already bound listener; it runs when awaited (or spawned) and
/// stops through its handle. It does not listen for signals itself: `kyoso serve`
/// does, for its whole life (see `commands::serve`).
pub fn server(
    db: Db,
    search: SearchEngine,
    jobs: JobBoard,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<actix_web::dev::Server> {
    server_with_state(state(db, search, jobs), listener, workers)
}

/// [`server`] with the write limits the settings chose.
pub fn server_with_limits(
    db: Db,
    search: SearchEngine,
    jobs: JobBoard,
    limits: crate::domain::throttle::Limits,
    listener: TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    server_with_state(state_with(db, search, jobs, limits), listener, None)
}

/// [`server`] around a state built by the caller (tests keep it to look at the guards).
pub fn server_with_state(
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<actix_web::dev::Server> {
    let mut server = HttpServer::new(move || build(state.clone()))
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE_SECS);
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.listen(listener)?.run())
}

/// Serves on an already bound listener until the server stops.
pub async fn serve(
    db: Db,
    search: SearchEngine,
    jobs: JobBoard,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<()> {
    server(db, search, jobs, listener, workers)?.await
}

/// What `kyoso serve` answers while it waits for the database and prepares search:
/// `/healthz` is 200 (the process lives), everything else — `/readyz` included — is
/// 503 saying what it waits for. `waiting` is updated as start-up goes on.
pub fn starting_server(
    waiting: Arc<std::sync::Mutex<String>>,
    listener: TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let server = HttpServer::new(move || {
        let waiting = waiting.clone();
        App::new()
            .wrap(actix_web::middleware::from_fn(crate::security_headers::add))
            .route(
                "/healthz",
                web::get().to(|| async { web::Json(serde_json::json!({"status": "ok"})) }),
            )
            .default_service(web::to(move || {
                let detail = format!(
                    "kyoso is starting: {}",
                    waiting.lock().unwrap_or_else(|p| p.into_inner())
                );
                async move {
                    Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::Unavailable,
                        detail,
                    )
                    .response()
                }
            }))
    })
    .disable_signals()
    .workers(1)
    .shutdown_timeout(SHUTDOWN_GRACE_SECS);
    Ok(server.listen(listener)?.run())
}

#[cfg(test)]
mod tests {
    use super::request_line;

    #[test]
    fn access_log_never_holds_a_token() {
        let req = actix_web::test::TestRequest::with_uri("/admin/invitation?token=s3cret&x=1")
            .to_srv_request();
        let line = request_line(&req);
        assert_eq!(line, "GET /admin/invitation HTTP/1.1");
        let plain = actix_web::test::TestRequest::with_uri("/admin/inbox").to_srv_request();
        assert_eq!(request_line(&plain), "GET /admin/inbox HTTP/1.1");
    }
}
