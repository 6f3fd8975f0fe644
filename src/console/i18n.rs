//! The console's two languages: Japanese by default, English on request (`?lang=en` for
//! one page, or the `kyoso_lang` cookie set by /admin/lang/en). Every visible string is
//! written at its place of use as a pair, `lang.t("日本語", "English")`, so neither
//! language can be forgotten; the closed vocabularies get their English labels here
//! (their Japanese ones live beside their spellings in `domain::vocab`).

use actix_web::HttpRequest;

use crate::domain::vocab::{
    Channel, DeclineReason, EventKind, NeedStatus, OfferKind, OfferStatus, PartnerKind,
    PartnerStatus, PolicyField, ProposalState, Role, Visibility,
};

pub const COOKIE: &str = "kyoso_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `?lang=` of this request, else the cookie, else Japanese.
    pub fn of(req: &HttpRequest) -> Lang {
        let from_query = req
            .query_string()
            .split('&')
            .find_map(|kv| kv.strip_prefix("lang=").and_then(Lang::parse));
        from_query
            .or_else(|| req.cookie(COOKIE).and_then(|c| Lang::parse(c.value())))
            .unwrap_or(Lang::Ja)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn t(self, ja: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// Like `t`, for text made at run time.
    pub fn s(self, ja: String, en: String) -> String {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    pub fn field(self, f: PolicyField) -> &'static str {
        use PolicyField::*;
        self.t(
            f.label_ja(),
            match f {
                Safety => "Safety and disaster prevention",
                ChildcareEducation => "Childcare and education",
                HealthWelfare => "Health and welfare",
                EnvironmentEnergy => "Environment and energy",
                InfrastructureMobility => "Infrastructure and mobility",
                EconomyIndustry => "Local economy and industry",
                CultureSportsTourism => "Culture, sports and tourism",
                GovernanceDx => "Administration, DX and civic participation",
            },
        )
    }

    pub fn state(self, s: ProposalState) -> &'static str {
        use ProposalState::*;
        self.t(
            s.label_ja(),
            match s {
                Received => "Received",
                Routed => "With the department",
                InDialogue => "In dialogue",
                Adopted => "Adopted",
                Declined => "Declined",
                Withdrawn => "Withdrawn",
            },
        )
    }

    pub fn channel(self, c: Channel) -> &'static str {
        use Channel::*;
        self.t(
            c.label_ja(),
            match c {
                Api => "Web / API",
                Phone => "Phone",
                Visit => "Visit",
                Email => "E-mail",
                Event => "Event",
            },
        )
    }

    pub fn decline(self, d: DeclineReason) -> &'static str {
        use DeclineReason::*;
        self.t(
            d.label_ja(),
            match d {
                OutOfScope => "Outside the city's work",
                PromotionOnly => "Only promotes a product or service",
                Duplicate => "Duplicates an existing proposal or project",
                NotFeasibleNow => "Not feasible at present",
                NoBudget => "No budget available",
                Other => "Other",
            },
        )
    }

    pub fn event(self, e: EventKind) -> &'static str {
        use EventKind::*;
        self.t(
            e.label_ja(),
            match e {
                Received => "Received",
                Routed => "Routed to department",
                Rerouted => "Re-routed",
                Note => "Internal note",
                Reply => "Reply to proposer",
                StateChanged => "State changed",
                Paused => "Waiting for proposer (clocks paused)",
                Resumed => "Clocks resumed",
                Extended => "Due date extended",
                Message => "Message from proposer",
                AttachmentAdded => "File attached",
            },
        )
    }

    pub fn role(self, r: Role) -> &'static str {
        use Role::*;
        self.t(
            r.label_ja(),
            match r {
                Department => "Department",
                Desk => "Co-creation desk",
                Admin => "Administrator",
            },
        )
    }

    pub fn need_status(self, s: NeedStatus) -> &'static str {
        use NeedStatus::*;
        self.t(
            s.label_ja(),
            match s {
                Draft => "Draft",
                Open => "Open",
                Closed => "Closed",
            },
        )
    }

    pub fn visibility(self, v: Visibility) -> &'static str {
        self.t(
            v.label_ja(),
            match v {
                Visibility::Public => "Public",
                Visibility::Internal => "Internal only",
            },
        )
    }

    pub fn offer_kind(self, k: OfferKind) -> &'static str {
        use OfferKind::*;
        self.t(
            k.label_ja(),
            match k {
                Technology => "Technology, product or service",
                Expertise => "Expertise and people",
                Research => "Research",
                Funding => "Funding or donation",
                Facility => "Space or equipment",
                Volunteer => "Hands and volunteers",
                Other => "Other",
            },
        )
    }

    pub fn partner_kind(self, k: PartnerKind) -> &'static str {
        use PartnerKind::*;
        self.t(
            k.label_ja(),
            match k {
                Company => "Company",
                University => "University or research institute",
                Npo => "NPO or civic group",
                Other => "Other organisation",
            },
        )
    }

    pub fn partner_status(self, s: PartnerStatus) -> &'static str {
        self.t(
            s.label_ja(),
            match s {
                PartnerStatus::Active => "Active",
                PartnerStatus::Suspended => "Suspended",
            },
        )
    }

    pub fn offer_status(self, s: OfferStatus) -> &'static str {
        self.t(
            s.label_ja(),
            match s {
                OfferStatus::Active => "Listed",
                OfferStatus::Archived => "Archived",
            },
        )
    }
}
