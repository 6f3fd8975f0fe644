//! The closed vocabularies of the domain, each with its stored/API spelling and its
//! Japanese label. The same spellings are used in the database checks, the API and the
//! search facets.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal : $ja:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja),* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)* _ => None }
            }

            /// For values read back from the database, whose CHECK constraints admit only
            /// known spellings.
            pub fn from_db(s: &str) -> Self {
                Self::parse(s).unwrap_or_else(|| panic!(concat!("unknown ", stringify!($name), " in database: {}"), s))
            }

            /// The allowed spellings, for error messages.
            pub fn expected() -> String {
                [$($text),*].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// 政策分野: the fixed list shared by needs, offers, departments and facets.
    PolicyField {
        Safety = "safety": "防災・安全",
        ChildcareEducation = "childcare_education": "子育て・教育",
        HealthWelfare = "health_welfare": "健康・福祉",
        EnvironmentEnergy = "environment_energy": "環境・エネルギー",
        InfrastructureMobility = "infrastructure_mobility": "都市基盤・交通",
        EconomyIndustry = "economy_industry": "地域経済・産業",
        CultureSportsTourism = "culture_sports_tourism": "文化・スポーツ・観光",
        GovernanceDx = "governance_dx": "行政経営・DX・市民自治",
    }
);

vocabulary!(
    /// What kind of organisation a partner is.
    PartnerKind {
        Company = "company": "企業",
        University = "university": "大学・研究機関",
        Npo = "npo": "NPO・市民団体",
        Other = "other": "その他団体",
    }
);

vocabulary!(
    /// What an offer gives.
    OfferKind {
        Technology = "technology": "技術・製品・サービス",
        Expertise = "expertise": "知見・人材",
        Research = "research": "研究・調査",
        Funding = "funding": "資金・寄附",
        Facility = "facility": "場所・設備",
        Volunteer = "volunteer": "人手・ボランティア",
        Other = "other": "その他",
    }
);

vocabulary!(
    /// Staff roles; partners are not staff and have no role here.
    Role {
        Department = "department": "所管課",
        Desk = "desk": "共創窓口",
        Admin = "admin": "管理者",
    }
);

vocabulary!(
    NeedStatus {
        Draft = "draft": "下書き",
        Open = "open": "募集中",
        Closed = "closed": "募集終了",
    }
);

vocabulary!(
    Visibility {
        Public = "public": "公開",
        Internal = "internal": "庁内限定",
    }
);

vocabulary!(
    OfferStatus {
        Active = "active": "掲載中",
        Archived = "archived": "掲載終了",
    }
);

vocabulary!(
    PartnerStatus {
        Active = "active": "有効",
        Suspended = "suspended": "利用停止",
    }
);

vocabulary!(
    /// A staff user's access: a disabled user cannot sign in or use API keys.
    StaffStatus {
        Active = "active": "有効",
        Disabled = "disabled": "無効",
    }
);

vocabulary!(
    Locale {
        Ja = "ja": "日本語",
        En = "en": "English",
    }
);

vocabulary!(
    /// How a proposal reached the desk.
    Channel {
        Api = "api": "Web・API",
        Phone = "phone": "電話",
        Visit = "visit": "来庁",
        Email = "email": "メール",
        Event = "event": "イベント",
    }
);

vocabulary!(
    /// Where a proposal is in its life; transitions are checked in `proposals::workflow`.
    ProposalState {
        Received = "received": "受付済",
        Routed = "routed": "所管課確認中",
        InDialogue = "in_dialogue": "対話中",
        Adopted = "adopted": "採択",
        Declined = "declined": "見送り",
        Withdrawn = "withdrawn": "取り下げ",
    }
);

vocabulary!(
    /// Why a proposal was declined; the free text that goes with it is sent to the proposer.
    DeclineReason {
        OutOfScope = "out_of_scope": "市の事業の範囲外",
        PromotionOnly = "promotion_only": "製品・サービスの宣伝のみ",
        Duplicate = "duplicate": "既存の提案・事業と重複",
        NotFeasibleNow = "not_feasible_now": "現時点では実施困難",
        NoBudget = "no_budget": "予算の確保が困難",
        Other = "other": "その他",
    }
);

vocabulary!(
    /// What happened to a proposal, for its audit trail.
    EventKind {
        Received = "received": "受付",
        Routed = "routed": "所管課へ回付",
        Rerouted = "rerouted": "回付先変更",
        Note = "note": "庁内メモ",
        Reply = "reply": "回答・連絡",
        StateChanged = "state_changed": "状態変更",
        Paused = "paused": "資料待ち（期限停止）",
        Resumed = "resumed": "期限再開",
        Extended = "extended": "期限延長",
        Message = "message": "提案者からの連絡",
        AttachmentAdded = "attachment_added": "添付ファイルを追加",
    }
);

vocabulary!(
    /// The kinds of file a proposal may carry, as detected from the bytes
    /// (`domain::attachments::sniff`), never from the name or the declared type.
    AttachmentKind {
        Pdf = "pdf": "PDF",
        Docx = "docx": "Word",
        Xlsx = "xlsx": "Excel",
        Pptx = "pptx": "PowerPoint",
        Doc = "doc": "Word（旧形式）",
        Xls = "xls": "Excel（旧形式）",
        Ppt = "ppt": "PowerPoint（旧形式）",
        Png = "png": "PNG画像",
        Jpeg = "jpeg": "JPEG画像",
    }
);
