//! The console's two languages: Japanese by default, English on request (`?lang=en` for
//! one page, or the `kyoso_lang` cookie set by /admin/lang/en). Every visible string is
//! written at its place of use as a pair, `lang.t("日本語", "English")`, so neither
//! language can be forgotten; the closed vocabularies carry both labels beside their
//! spellings (`values::vocab`).

use actix_web::HttpRequest;

use crate::domain::vocab::{
    Channel, DeclineReason, DeliveryChoice, EventKind, MailStatus, NeedStatus, NoticeKind,
    OfferKind, OfferStatus, PartnerKind, PartnerStatus, PolicyField, ProposalState, Role,
    StaffStatus, Visibility,
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

    // The labels of the vocabularies, Japanese or English, from their one declaration
    // (`values::vocab`).

    pub fn field(self, f: PolicyField) -> &'static str {
        self.t(f.label_ja(), f.label_en())
    }

    pub fn state(self, s: ProposalState) -> &'static str {
        self.t(s.label_ja(), s.label_en())
    }

    pub fn channel(self, c: Channel) -> &'static str {
        self.t(c.label_ja(), c.label_en())
    }

    pub fn decline(self, d: DeclineReason) -> &'static str {
        self.t(d.label_ja(), d.label_en())
    }

    pub fn event(self, e: EventKind) -> &'static str {
        self.t(e.label_ja(), e.label_en())
    }

    pub fn role(self, r: Role) -> &'static str {
        self.t(r.label_ja(), r.label_en())
    }

    pub fn need_status(self, s: NeedStatus) -> &'static str {
        self.t(s.label_ja(), s.label_en())
    }

    pub fn visibility(self, v: Visibility) -> &'static str {
        self.t(v.label_ja(), v.label_en())
    }

    pub fn offer_kind(self, k: OfferKind) -> &'static str {
        self.t(k.label_ja(), k.label_en())
    }

    pub fn partner_kind(self, k: PartnerKind) -> &'static str {
        self.t(k.label_ja(), k.label_en())
    }

    pub fn partner_status(self, s: PartnerStatus) -> &'static str {
        self.t(s.label_ja(), s.label_en())
    }

    pub fn offer_status(self, s: OfferStatus) -> &'static str {
        self.t(s.label_ja(), s.label_en())
    }

    pub fn staff_status(self, s: StaffStatus) -> &'static str {
        self.t(s.label_ja(), s.label_en())
    }

    pub fn mail_status(self, s: MailStatus) -> &'static str {
        self.t(s.label_ja(), s.label_en())
    }

    pub fn notice(self, k: NoticeKind) -> &'static str {
        self.t(k.label_ja(), k.label_en())
    }

    pub fn delivery(self, c: DeliveryChoice) -> &'static str {
        self.t(c.label_ja(), c.label_en())
    }
}
