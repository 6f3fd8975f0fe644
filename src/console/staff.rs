//! Staff users (admins): the list (`domain::staff::list`), adding a user
//! (`domain::staff::create`) and setting a user's console password
//! (`domain::console_auth::set_password`, which also ends the user's sessions).

use actix_web::{HttpResponse, web};
use maud::html;

use super::layout::{self, Nav, select};
use super::session::{ConsoleUser, Posted};
use super::{ConsoleResult, run, see_other};
use crate::api::state::AppState;
use crate::domain::console_auth;
use crate::domain::municipalities;
use crate::domain::staff::{self, NewStaffInput};
use crate::domain::vocab::Role;

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
    let roles: Vec<(String, String)> = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), lang.role(*r).to_owned()))
        .collect();
    let dept_options: Vec<(String, String)> = departments
        .iter()
        .map(|d| (d.id.0.to_string(), d.name.clone()))
        .collect();
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
            } }
            tbody { @for s in &users { tr {
                td { (s.display_name) }
                td { (s.email) }
                td { (lang.role(s.role)) }
                td { (s.municipality_code.as_deref().unwrap_or("—")) }
                td { (dept_name(s.department_id)) }
                td { @if s.status == "active" { (lang.t("有効", "Active")) } @else { (lang.t("無効", "Disabled")) } }
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
            div.field {
                label for="s-pw" { (lang.t("初期パスワード（10文字以上）", "Initial password (10 characters or more)")) }
                input #s-pw type="password" name="password" autocomplete="new-password" required minlength="10";
            }
            button.primary type="submit" { (lang.t("追加する", "Add")) }
        }
        h2 { (lang.t("パスワードを設定する", "Set a password")) }
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
            p.hint { (lang.t("設定すると、その職員のログイン中のセッションはすべて終了します。", "Setting it ends all of that user's sessions.")) }
            button type="submit" { (lang.t("設定する", "Set password")) }
        }
    };
    Ok(layout::page(&u, Nav::Staff, lang.t("職員", "Staff"), body))
}

pub async fn create(state: web::Data<AppState>, posted: Posted) -> ConsoleResult<HttpResponse> {
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
    let password = f.text("password");
    run(&state, u.lang, move |db| {
        console_auth::check_password(&password)?;
        let email = input.email.clone();
        staff::create(db, Some(&actor), input)?;
        console_auth::set_password(db, Some(&actor), &email, &password)
    })
    .await?;
    Ok(see_other("/admin/staff?done=created"))
}

pub async fn set_password(
    state: web::Data<AppState>,
    posted: Posted,
) -> ConsoleResult<HttpResponse> {
    let Posted { user: u, form: f } = posted;
    let (actor, email, password) = (u.actor(), f.text("email"), f.text("password"));
    run(&state, u.lang, move |db| {
        console_auth::set_password(db, Some(&actor), &email, &password)
    })
    .await?;
    Ok(see_other("/admin/staff?done=password"))
}
