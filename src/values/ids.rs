//! Typed ids: a `NeedId` cannot be passed where an `OfferId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

typed_id!(
    MunicipalityId,
    DepartmentId,
    ZoneId,
    StaffUserId,
    PartnerId,
    ApiKeyId,
    NeedId,
    OfferId,
    ProposalId,
);
