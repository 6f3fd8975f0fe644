//! The HTML shell of every page kyoso serves (maud): the document head with the one
//! stylesheet, and the response headers of a page. The console's screens and the
//! public pages the API serves (unsubscribing) are built on it, so they look alike.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use maud::{DOCTYPE, Markup, html};

/// The document head: `title` as given, the console's stylesheet.
pub fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="robots" content="noindex";
            title { (title) }
            link rel="stylesheet" href="/admin/static/console.css";
        }
    }
}

/// An HTML page response, never cached; the security headers (CSP, framing, referrer)
/// are added to every response by `crate::security_headers`.
pub fn response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// A page for people without an account (e.g. someone following a link in a mail):
/// Japanese, the console's bare look, one heading.
pub fn public_page(status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    response(
        status,
        html! {
            (DOCTYPE)
            html lang="ja" {
                (head(title))
                body.bare {
                    main #main tabindex="-1" {
                        h1 { (title) }
                        (body)
                    }
                }
            }
        },
    )
}
