//! Staff users (admins): the list (`domain::staff::list`), adding a user
//! (`domain::staff::create`, which mails the new user an invitation to choose their own
//! password), changing one — name, role, department, mail language, and disabling or
//! enabling access (`domain::staff::update`) — and resetting a user's console password
//! (`domain::console_auth::set_password`, which also ends the user's sessions, revokes
//! their API keys and makes them choose a new password at the next sign-in).

use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::layout::{self, Nav, select};
use super::session::{ConsoleUser, Posted};
use super::{ConsoleResult, run, see_other};
use crate::console::i18n::Lang;
use crate::domain::ids::StaffUserId;
use crate::domain::municipalities::{self, DepartmentView};
use crate::domain::staff::{self, NewStaffInput, StaffUpdate};
use crate::domain::vocab::{Role, StaffStatus};
use crate::domain::{audit, console_auth};
use crate::web::state::AppState;

pub async fn show(state: web::Data<AppState>, u: ConsoleUser) -> ConsoleResult<HttpResponse> {
    let actor = u.actor();
    let own = u.municipality(None);
    let (users, departments) = run(&state, u.lang, move |db| {
        let users = staff::list(db, &actor)?;
        let departments = match own {
            Some(c) => municipalities::list_departments(db, &c)?,
            None => vec![],
        };
        Ok((users, departments))
    })
    .await?;
    let lang = u.lang;
    let dept_name = |id: Option<crate::domain::ids::DepartmentId>| {
        id.and_then(|id| {
            departments
                .iter()
                .find(|d| d.id == id)
                .map(|d| d.name.clone())
        })
        .unwrap_or_default()
    };
    let (roles, dept_options) = (role_options(lang), department_options(&departments));
    let body = html! {
        div.table-wrap { table {
            caption { (lang.t("職員の一覧", "Staff users")) }
            thead { tr {
                th scope="col" { (lang.t("氏名", "Name")) }
                th scope="col" { (lang.t("メールアドレス", "E-mail")) }
                th scope="col" { (lang.t("役割", "Role")) }
                th scope="col" { (lang.t("自治体", "Municipality")) }
                th scope="col" { (lang.t("所管課", "Department")) }
                th scope="col" { (lang.t("状態", "Status")) }
                th scope="col" { span.visually-hidden { (lang.t("操作", "Actions")) } }
            } }
            tbody { @for s in &users { tr {
                td { (s.display_name) }
                td { (s.email) }
                td { (lang.role(s.role)) }
                td { (s.municipality_code.as_deref().unwrap_or("—")) }
                td { (dept_name(s.department_id)) }
                td { (status_label(lang, &s.status)) }
                td { a href=(format!("/admin/staff/{}", s.id.0)) { (lang.t("変更", "Edit")) span.visually-hidden { " " (s.display_name) } } }
            } } }
        } }
        h2 { (lang.t("職員を追加する", "Add a staff user")) }
        form method="post" action="/admin/staff" {
            (layout::csrf(&u))
            div.field {
                label for="s-email" { (lang.t("メールアドレス", "E-mail")) }
                input #s-email type="email" name="email" required;
            }
            div.field {
                label for="s-name" { (lang.t("氏名", "Name")) }
                input #s-name type="text" name="display_name" required;
            }
            (select("s-role", "role", lang.t("役割", "Role"), &roles, Some("department"), None))
            @if u.is_deployment_admin() {
                div.field {
                    label for="s-m" { (lang.t("自治体コード（全自治体の管理者は空欄）", "Municipality code (blank for a deployment admin)")) }
                    input #s-m type="text" name="municipality_code" inputmode="numeric";
                }
                div.field {
                    label for="s-d" { (lang.t("所管課の番号（所管課の職員は必須）", "Department id (required for department staff)")) }
                    input #s-d type="number" name="department_id";
                }
            } @else {
                (select("s-d", "department_id", lang.t("所管課（所管課の職員は必須）", "Department (required for department staff)"), &dept_options, None, Some(lang.t("なし", "None"))))
            }
            p.hint { (lang.t(
                "追加すると、本人のメールアドレスにパスワード設定用の招待リンク（72時間有効・1回限り）が届きます。管理者がパスワードやAPIキーを受け取ることはありません。",
                "The new user is mailed a one-time link (valid 72 hours) to choose their own password; no password or API key passes through you."
            )) }
            button.primary type="submit" { (lang.t("追加して招待メールを送る", "Add and send the invitation")) }
        }
        h2 { (lang.t("パスワードを再設定する", "Reset a password")) }
        form method="post" action="/admin/staff/password" {
            (layout::csrf(&u))
            div.field {
                label for="p-email" { (lang.t("職員のメールアドレス", "The staff user's e-mail")) }
                input #p-email type="email" name="email" required;
            }
            div.field {
                label for="p-pw" { (lang.t("新しいパスワード（10文字以上）", "New password (10 characters or more)")) }
                input #p-pw type="password" name="password" autocomplete="new-password" required minlength="10";
            }
            p.hint { (lang.t(
                "再設定すると、その職員のログイン中のセッションはすべて終了し、APIキーは失効します。次回ログイン時には、本人が新しいパスワードを設定するまでほかの画面は使えません。",
                "Resetting ends all of that user's sessions and revokes their API keys; at the next sign-in they must choose a new password before anything else."
            )) }
            button type="submit" { (lang.t("設定する", "Set password")) }
        }
    };
    Ok(layout::page(&u, Nav::Staff, lang.t("職員", "Staff"), body))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let actor = u.actor();
    let input = NewStaffInput {
        email: f.text("email"),
        display_name: f.text("display_name"),
        role: f.text("role"),
        municipality_code: f.opt("municipality_code"),
        department_id: f.id("department_id").map_err(|e| u.err(e))?,
        locale: None,
    };
    let source = crate::web::source(&req);
    run(&state, u.lang, move |db| {
        audit::with_source(&source, || staff::create(db, Some(&actor), input))
    })
    .await?;
    Ok(see_other("/admin/staff?done=invited"))
}

pub async fn set_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let (actor, email, password) = (u.actor(), f.text("email"), f.text("password"));
    let source = crate::web::source(&req);
    run(&state, u.lang, move |db| {
        audit::with_source(&source, || {
            console_auth::set_password(db, Some(&actor), &email, &password)
        })
    })
    .await?;
    Ok(see_other("/admin/staff?done=reset"))
}

pub async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<StaffUserId>,
) -> ConsoleResult<HttpResponse> {
    let u = posted.user;
    let (actor, id) = (u.actor(), id.into_inner());
    let source = crate::web::source(&req);
    run(&state, u.lang, move |db| {
        audit::with_source(&source, || staff::invite_again(db, &actor, id))
    })
    .await?;
    Ok(see_other(&format!("/admin/staff/{}?done=invitation", id.0)))
}

fn role_options(lang: Lang) -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), lang.role(*r).to_owned()))
        .collect()
}

fn department_options(departments: &[DepartmentView]) -> Vec<(String, String)> {
    departments
        .iter()
        .map(|d| (d.id.0.to_string(), d.name.clone()))
        .collect()
}

fn status_label(lang: Lang, status: &str) -> &'static str {
    lang.staff_status(StaffStatus::parse(status).unwrap_or(StaffStatus::Disabled))
}

/// The form that changes one staff user.
pub async fn edit(
    state: web::Data<AppState>,
    u: ConsoleUser,
    id: web::Path<StaffUserId>,
) -> ConsoleResult<HttpResponse> {
    let (actor, id) = (u.actor(), id.into_inner());
    let (user, departments) = run(&state, u.lang, move |db| {
        let user = staff::get(db, &actor, id)?;
        let departments = match &user.municipality_code {
            Some(code) => municipalities::list_departments(db, code)?,
            None => vec![],
        };
        Ok((user, departments))
    })
    .await?;
    let lang = u.lang;
    let own = u.staff().id == user.id;
    let (roles, dept_options) = (role_options(lang), department_options(&departments));
    let locales = layout::locale_options();
    let statuses: Vec<(String, String)> = StaffStatus::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                status_label(lang, s.as_str()).to_owned(),
            )
        })
        .collect();
    let department = user.department_id.map(|d| d.0.to_string());
    let body = html! {
        p { a href="/admin/staff" { (lang.t("職員の一覧へ戻る", "Back to the staff list")) } }
        dl.facts {
            dt { (lang.t("メールアドレス", "E-mail")) } dd { (user.email) }
            dt { (lang.t("自治体", "Municipality")) } dd { (user.municipality_code.as_deref().unwrap_or("—")) }
            dt { (lang.t("状態", "Status")) } dd { (status_label(lang, &user.status)) }
        }
        form method="post" action=(format!("/admin/staff/{}", user.id.0)) {
            (layout::csrf(&u))
            div.field {
                label for="e-name" { (lang.t("氏名", "Name")) }
                input #e-name type="text" name="display_name" value=(user.display_name) required maxlength="100";
            }
            @if own {
                p.hint { (lang.t("自分の役割・所管課・状態は、ほかの管理者が変更します。", "Your own role, department and status are changed by another administrator.")) }
            } @else {
                (select("e-role", "role", lang.t("役割", "Role"), &roles, Some(user.role.as_str()), None))
                (select("e-dept", "department_id", lang.t("所管課（所管課の職員は必須）", "Department (required for department staff)"), &dept_options, department.as_deref(), Some(lang.t("なし", "None"))))
                (select("e-status", "status", lang.t("状態（無効にするとログインとAPIキーが使えなくなります）", "Status (disabled: no sign-in, no API keys)"), &statuses, Some(user.status.as_str()), None))
            }
            (select("e-locale", "locale", lang.t("メールの言語", "Language of the user's e-mail"), &locales, Some(user.locale.as_str()), None))
            button.primary type="submit" { (lang.t("保存する", "Save")) }
        }
        @if !own {
            h2 { (lang.t("招待メールを再送する", "Send the invitation again")) }
            form method="post" action=(format!("/admin/staff/{}/invitation", user.id.0)) {
                (layout::csrf(&u))
                p.hint { (lang.t(
                    "本人のメールアドレスに、パスワード設定用の新しいリンク（72時間有効・1回限り）を送ります。以前のリンクは使えなくなります。",
                    "Mails the user a new one-time link (valid 72 hours) to choose their password; earlier links stop working."
                )) }
                button type="submit" { (lang.t("招待メールを送る", "Send the invitation")) }
            }
        }
    };
    Ok(layout::page(&u, Nav::Staff, &user.display_name, body))
}

pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    posted: Posted,
    id: web::Path<StaffUserId>,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let (actor, id) = (u.actor(), id.into_inner());
    let own = u.staff().id == id;
    let input = StaffUpdate {
        display_name: Some(f.text("display_name")),
        role: (!own).then(|| f.text("role")),
        department_id: if own {
            None
        } else {
            Some(f.id("department_id").map_err(|e| u.err(e))?)
        },
        locale: Some(f.text("locale")),
        status: (!own).then(|| f.text("status")),
    };
    let source = crate::web::source(&req);
    run(&state, u.lang, move |db| {
        audit::with_source(&source, || staff::update(db, &actor, id, input))
    })
    .await?;
    Ok(see_other(&format!("/admin/staff/{}?done=saved", id.0)))
}
