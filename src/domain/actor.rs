//! Who is calling, and the permission rules every domain function asks. Least privilege:
//! a partner acts on its own records, department staff on their municipality's needs,
//! desk and admin on their municipality, a deployment admin (no municipality) on all.

use super::error::{AppError, AppResult};
use super::ids::{DepartmentId, MunicipalityId, PartnerId, StaffUserId};
use super::vocab::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Anonymous,
    Partner(PartnerId),
    Staff(StaffActor),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffActor {
    pub id: StaffUserId,
    pub role: Role,
    /// `None` only for a deployment admin, who spans every municipality.
    pub municipality: Option<MunicipalityId>,
    pub department: Option<DepartmentId>,
}

impl StaffActor {
    /// Whether this staff member works for `m` (a deployment admin works for all).
    pub fn serves(&self, m: MunicipalityId) -> bool {
        self.municipality.is_none_or(|own| own == m)
    }

    pub fn is_deployment_admin(&self) -> bool {
        self.role == Role::Admin && self.municipality.is_none()
    }
}

impl Actor {
    pub fn staff(&self) -> Option<&StaffActor> {
        match self {
            Actor::Staff(s) => Some(s),
            _ => None,
        }
    }

    pub fn partner(&self) -> Option<PartnerId> {
        match self {
            Actor::Partner(p) => Some(*p),
            _ => None,
        }
    }

    /// Any signed-in caller.
    pub fn require_signed_in(&self) -> AppResult<()> {
        match self {
            Actor::Anonymous => Err(AppError::Unauthenticated),
            _ => Ok(()),
        }
    }

    pub fn require_partner(&self) -> AppResult<PartnerId> {
        match self {
            Actor::Partner(p) => Ok(*p),
            Actor::Anonymous => Err(AppError::Unauthenticated),
            Actor::Staff(_) => Err(AppError::Forbidden("only partners can do this")),
        }
    }

    pub fn require_staff(&self) -> AppResult<&StaffActor> {
        match self {
            Actor::Staff(s) => Ok(s),
            Actor::Anonymous => Err(AppError::Unauthenticated),
            Actor::Partner(_) => Err(AppError::Forbidden("only municipal staff can do this")),
        }
    }

    /// Staff of municipality `m` with one of `roles`.
    pub fn require_staff_of(&self, m: MunicipalityId, roles: &[Role]) -> AppResult<&StaffActor> {
        let s = self.require_staff()?;
        if !roles.contains(&s.role) {
            return Err(AppError::Forbidden("your role does not allow this"));
        }
        if !s.serves(m) {
            return Err(AppError::Forbidden("this belongs to another municipality"));
        }
        Ok(s)
    }

    /// Whether the caller may see internal records of municipality `m`.
    pub fn sees_internal_of(&self, m: MunicipalityId) -> bool {
        self.staff().is_some_and(|s| s.serves(m))
    }

    pub fn require_deployment_admin(&self) -> AppResult<&StaffActor> {
        let s = self.require_staff()?;
        if !s.is_deployment_admin() {
            return Err(AppError::Forbidden(
                "only a deployment administrator can do this",
            ));
        }
        Ok(s)
    }
}

/// The roles that may manage a municipality's needs.
pub const NEED_EDITORS: &[Role] = &[Role::Department, Role::Desk, Role::Admin];
/// The roles that may manage a municipality's settings, departments and staff.
pub const ADMINS: &[Role] = &[Role::Admin];
