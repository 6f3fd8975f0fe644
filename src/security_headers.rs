//! The response headers that tell a browser what kyoso's pages may do: one middleware
//! around the whole app, so the console, the public pages (unsubscribe) and the API all
//! send them, error pages and redirects included.
//!
//! The console is server-rendered HTML with one same-origin stylesheet, one same-origin
//! script (the optional keyboard shortcuts; every page works without it), no inline
//! script or style and no `on*=` handler, so the policy allows nothing else: a script
//! that an injection slipped into a page would not run, no other site may frame a page
//! (clickjacking), and the browser neither guesses content types nor sends the
//! console's addresses (which may carry ids) to other sites.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// Nothing from outside and nothing inline: the stylesheet, the script and images come
/// from kyoso, forms post only to kyoso, no page may be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One year, the value HSTS preload lists ask for.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Adds the headers to every response that does not set its own.
pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let https = crate::console::session::secure(req.request());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    // Sent only over https: a browser ignores it on plain http, and a deployment tried
    // out on plain http must not be told to insist on https.
    if https {
        set(header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
    }
    Ok(res)
}
