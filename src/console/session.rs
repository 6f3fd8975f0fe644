//! Login sessions in the browser: the session cookie (HttpOnly, SameSite=Strict, Secure
//! when the service is reached over https), the signed-in staff member as an extractor,
//! and the CSRF rule — every POST of the console goes through `Posted`, which refuses a
//! form whose `csrf` field is not the session's token. The login form, which comes
//! before any session, carries a double-submit token instead.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use maud::html;
use std::future::Future;
use std::pin::Pin;

use super::i18n::{self, Lang};
use super::layout;
use super::{ConsoleError, ConsoleResult, see_other};
use crate::domain::actor::{Actor, StaffActor};
use crate::domain::console_auth::{self, Login, StaffSession, constant_time_eq};
use crate::domain::error::AppError;
use crate::domain::vocab::Role;
use crate::web::state::AppState;

pub const SESSION_COOKIE: &str = "kyoso_console";
const LOGIN_CSRF_COOKIE: &str = "kyoso_login_csrf";
/// The signed cookie of a browser that logged in before: it gets past a lock of that
/// account (see `domain::console_auth`). Sent only to the login form.
const DEVICE_COOKIE: &str = "kyoso_login_device";

/// Whether cookies must be `Secure`: the request came over https, or the service's
/// public URL is https (behind a proxy that ends TLS).
pub fn secure(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https" || crate::domain::public_url().starts_with("https://")
}

fn cookie<'a>(req: &HttpRequest, name: &'a str, value: String) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(req))
        .finish()
}

fn removal<'a>(req: &HttpRequest, name: &'a str) -> Cookie<'a> {
    let mut c = cookie(req, name, String::new());
    c.make_removal();
    c
}

/// The signed-in staff member of a console request.
pub struct ConsoleUser {
    pub session: StaffSession,
    pub lang: Lang,
    /// The path and query of this request.
    pub here: String,
    /// `?done=` of this request: what the previous form did.
    pub done: Option<String>,
    /// Search runs on bigrams only (no Japanese dictionary): the header tells admins.
    pub search_degraded: bool,
}

impl ConsoleUser {
    pub fn actor(&self) -> Actor {
        self.session.actor.clone()
    }

    pub fn staff(&self) -> &StaffActor {
        &self.session.staff
    }

    pub fn role(&self) -> Role {
        self.session.staff.role
    }

    pub fn is_desk(&self) -> bool {
        matches!(self.role(), Role::Desk | Role::Admin)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Role::Admin
    }

    pub fn is_deployment_admin(&self) -> bool {
        self.session.staff.is_deployment_admin()
    }

    /// The municipality code this page is about: the user's own, or for a deployment
    /// admin the one chosen with `?m=`.
    pub fn municipality(&self, chosen: Option<&str>) -> Option<String> {
        match &self.session.municipality {
            Some((code, _)) => Some(code.clone()),
            None => chosen
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        }
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    pub fn err(&self, e: AppError) -> ConsoleError {
        ConsoleError::App(e, self.lang)
    }
}

fn query_value(req: &HttpRequest, key: &str) -> Option<String> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.0.into_iter().find(|(k, _)| k == key).map(|(_, v)| v))
}

impl FromRequest for ConsoleUser {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<ConsoleUser, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let lang = Lang::of(req);
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        let done = query_value(req, "done");
        let path = req.path().to_owned();
        let is_get = req.method() == actix_web::http::Method::GET;
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ConsoleError::App(AppError::internal(anyhow::anyhow!("state missing")), lang)
            })?;
            // After login, come back to the page asked for; after a POST, to the inbox.
            let next = if is_get {
                here.clone()
            } else {
                "/admin/inbox".to_owned()
            };
            let Some(token) = token else {
                return Err(ConsoleError::LoginRequired { next });
            };
            let session = super::run(&state, lang, move |db| console_auth::session(db, &token))
                .await?
                .ok_or(ConsoleError::LoginRequired { next })?;
            // After an administrator's reset, only choosing a new password (or logging
            // out) is possible until it is done.
            if session.must_change_password
                && !matches!(
                    path.as_str(),
                    super::credentials::CHANGE_PATH | "/admin/logout"
                )
            {
                return Err(ConsoleError::PasswordChangeRequired(lang));
            }
            Ok(ConsoleUser {
                session,
                lang,
                here,
                done,
                search_degraded: state.search.bigram_only(),
            })
        })
    }
}

/// The fields of a posted form (`application/x-www-form-urlencoded`).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn empty() -> Fields {
        Fields(vec![])
    }

    /// Fields with these values, as if posted (to prefill a form).
    pub fn with(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value, trimmed; `None` when absent or blank.
    pub fn opt(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// The value as typed (empty when absent); the domain checks it.
    pub fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or_default().to_owned()
    }

    /// Every non-blank value of a repeated field (checkboxes, multiple selects).
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    pub fn checked(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A number field; a value that is not a number is reported as the field's error.
    pub fn id(&self, key: &str) -> Result<Option<i64>, AppError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| AppError::field(key, "format", "must be a number")),
        }
    }

    pub fn date(&self, key: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| AppError::field(key, "format", "must be a date (YYYY-MM-DD)")),
        }
    }
}

/// A posted form of a signed-in user whose CSRF token was checked: the only way a
/// console handler receives a POST body.
pub struct Posted {
    pub user: ConsoleUser,
    pub form: Fields,
}

impl FromRequest for Posted {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Posted, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = ConsoleUser::from_request(req, &mut Payload::None);
        let form = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            let form = Fields(form.await?.into_inner());
            let sent = form.get("csrf").unwrap_or_default();
            if !constant_time_eq(sent.as_bytes(), user.csrf().as_bytes()) {
                return Err(ConsoleError::Csrf(user.lang).into());
            }
            Ok(Posted { user, form })
        })
    }
}

/// Where to go after login: only a console path, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/admin")
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/admin/login") =>
        {
            n.to_owned()
        }
        _ => "/admin/inbox".to_owned(),
    }
}

pub async fn login_page(req: HttpRequest) -> HttpResponse {
    let lang = Lang::of(&req);
    let next = safe_next(query_value(&req, "next").as_deref());
    render_login(&req, lang, &next, None, actix_web::http::StatusCode::OK)
}

fn render_login(
    req: &HttpRequest,
    lang: Lang,
    next: &str,
    error: Option<String>,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let Ok(token) = console_auth::new_form_token() else {
        log::error!("the operating system's random source failed; no login form served");
        return HttpResponse::ServiceUnavailable().finish();
    };
    let body = html! {
        @if let Some(e) = &error {
            div.alert.error role="alert" id="login-error" { (e) }
        }
        form.login method="post" action="/admin/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            div.field {
                label for="email" { (lang.t("メールアドレス", "E-mail address")) }
                input #email type="email" name="email" autocomplete="username" required
                    aria-describedby=[error.as_ref().map(|_| "login-error")];
            }
            div.field {
                label for="password" { (lang.t("パスワード", "Password")) }
                input #password type="password" name="password" autocomplete="current-password" required;
            }
            button.primary type="submit" { (lang.t("ログイン", "Log in")) }
        }
        p.hint { (lang.t(
            "5回続けて誤ると、以前にログインしたことのないブラウザからは一定時間ログインできなくなり、本人にお知らせのメールが届きます。パスワードを忘れた場合は管理者に連絡してください。",
            "After 5 failed attempts in a row, logins from browsers that have not logged in before are paused for a while and the account's owner is told by e-mail. If you forgot your password, contact an administrator."
        )) }
        p.lang-switch {
            a href=(format!("/admin/lang/ja?next={}", layout::url_encode(&format!("/admin/login?next={next}")))) lang="ja" { "日本語" }
            " | "
            a href=(format!("/admin/lang/en?next={}", layout::url_encode(&format!("/admin/login?next={next}")))) lang="en" { "English" }
        }
    };
    let mut res = layout::bare(lang, status, lang.t("職員ログイン", "Staff login"), body);
    let _ = res.add_cookie(&cookie(req, LOGIN_CSRF_COOKIE, token));
    res
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> ConsoleResult<HttpResponse> {
    let lang = Lang::of(&req);
    let form = Fields(form.into_inner());
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned());
    let sent = form.get("csrf").unwrap_or_default();
    if !expected.is_some_and(|e| !e.is_empty() && constant_time_eq(e.as_bytes(), sent.as_bytes())) {
        return Err(ConsoleError::Csrf(lang));
    }
    let next = safe_next(form.get("next"));
    let (email, password) = (form.text("email"), form.text("password"));
    let source = console_auth::Source {
        address: crate::web::state::source(&req),
        device: req.cookie(DEVICE_COOKIE).map(|c| c.value().to_owned()),
    };
    let audit_source = crate::web::source(&req);
    let guards = state.guards.clone();
    let outcome = super::lift(
        super::run(&state, lang, move |db| {
            crate::domain::audit::with_source(&audit_source, || {
                console_auth::login(db, &guards, &source, &email, &password)
            })
        })
        .await,
    )?;
    match outcome {
        Ok(Login::Ok { token, device }) => {
            let mut res = see_other(&next);
            let mut c = cookie(&req, SESSION_COOKIE, token);
            c.set_max_age(CookieDuration::hours(console_auth::ABSOLUTE_HOURS));
            let _ = res.add_cookie(&c);
            let mut d = cookie(&req, DEVICE_COOKIE, device);
            d.set_path("/admin/login");
            d.set_max_age(CookieDuration::days(console_auth::DEVICE_DAYS));
            let _ = res.add_cookie(&d);
            let _ = res.add_removal_cookie(&removal(&req, LOGIN_CSRF_COOKIE));
            Ok(res)
        }
        Ok(Login::Invalid) => Ok(render_login(
            &req,
            lang,
            &next,
            Some(
                lang.t(
                    "メールアドレスまたはパスワードが正しくありません。",
                    "The e-mail address or password is not correct.",
                )
                .to_owned(),
            ),
            actix_web::http::StatusCode::UNAUTHORIZED,
        )),
        Err(e @ AppError::RateLimited { .. }) => {
            let mut res = render_login(
                &req,
                lang,
                &next,
                Some(super::error_text::sentence(lang, &e)),
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            );
            if let Some(v) = crate::web::status::retry_after(&e) {
                res.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, v);
            }
            Ok(res)
        }
        Err(e) => Err(ConsoleError::App(e, lang)),
    }
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let token = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    super::run(&state, posted.user.lang, move |db| {
        console_auth::logout(db, &token)
    })
    .await?;
    let mut res = see_other("/admin/login?done=logout");
    let _ = res.add_removal_cookie(&removal(&req, SESSION_COOKIE));
    Ok(res)
}

/// Switches the language (a cookie for a year) and goes back to `next`.
pub async fn set_lang(req: HttpRequest, code: web::Path<String>) -> HttpResponse {
    let lang = Lang::parse(&code).unwrap_or(Lang::Ja);
    let next = safe_next(query_value(&req, "next").as_deref());
    let mut res = see_other(&next);
    let mut c = Cookie::build(i18n::COOKIE, lang.code())
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(&req))
        .finish();
    c.set_max_age(CookieDuration::days(365));
    let _ = res.add_cookie(&c);
    res
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_in_the_console() {
        assert_eq!(safe_next(Some("/admin/needs?x=1")), "/admin/needs?x=1");
        assert_eq!(safe_next(Some("https://evil.example/")), "/admin/inbox");
        assert_eq!(safe_next(Some("//evil.example/admin")), "/admin/inbox");
        assert_eq!(safe_next(Some("/admin/login")), "/admin/inbox");
        assert_eq!(safe_next(None), "/admin/inbox");
    }
}
