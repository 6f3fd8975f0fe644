//! The closed vocabularies: each word with its stored/API spelling and its Japanese and
//! English labels, declared once with `vocabulary!`. From that one declaration come the
//! serde and OpenAPI spellings, parsing at the edge (`parse`), reading a stored word
//! (`from_db`, an error rather than a panic for a word the code does not know), the labels per language (`label`), and the list of every vocabulary
//! (`all_vocabularies`), against which a test checks the databases' CHECK lists.
//!
//! Adding a word: add its line to the declaration and write the migration that lets the
//! database store it (see ARCHITECTURE.md, "where changes go").

use serde::{Deserialize, Serialize};

/// A stored word no vocabulary knows: the database holds something this code cannot
/// read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} in the database: {word:?}")]
pub struct UnknownWord {
    pub vocabulary: &'static str,
    pub word: String,
}

/// A vocabulary's name and spellings, for the test that compares them with the
/// databases' CHECK lists.
pub struct Spellings {
    pub name: &'static str,
    pub words: Vec<&'static str>,
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident {
        $($(#[$vdoc:meta])* $variant:ident = $text:literal : $ja:literal / $en:literal),* $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $text)] $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja),* }
            }

            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),* }
            }

            /// The label in `locale`, as a mail or a screen in that language shows it.
            pub fn label(self, locale: Locale) -> &'static str {
                match locale {
                    Locale::Ja => self.label_ja(),
                    Locale::En => self.label_en(),
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)* _ => None }
            }

            /// A word read back from the database. The CHECK lists keep unknown words
            /// out (a test compares them with this declaration); should one still be
            /// there, it is an error the caller reports as internal, never a panic.
            pub fn from_db(s: &str) -> Result<Self, UnknownWord> {
                Self::parse(s).ok_or_else(|| UnknownWord {
                    vocabulary: stringify!($name),
                    word: s.to_owned(),
                })
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

/// Declares the vocabularies and the list of all of them in one go, so a new vocabulary
/// cannot be left out of the schema test.
macro_rules! vocabularies {
    ($($(#[$doc:meta])* $name:ident $body:tt)*) => {
        $(vocabulary!($(#[$doc])* $name $body);)*

        /// Every vocabulary with its spellings.
        pub fn all_vocabularies() -> Vec<Spellings> {
            vec![$(Spellings {
                name: stringify!($name),
                words: $name::ALL.iter().map(|w| w.as_str()).collect(),
            }),*]
        }
    };
}

vocabularies! {
    /// 政策分野: the fixed list shared by needs, offers, departments and facets.
    PolicyField {
        Safety = "safety": "防災・安全" / "Safety and disaster prevention",
        ChildcareEducation = "childcare_education": "子育て・教育" / "Childcare and education",
        HealthWelfare = "health_welfare": "健康・福祉" / "Health and welfare",
        EnvironmentEnergy = "environment_energy": "環境・エネルギー" / "Environment and energy",
        InfrastructureMobility = "infrastructure_mobility": "都市基盤・交通" / "Infrastructure and mobility",
        EconomyIndustry = "economy_industry": "地域経済・産業" / "Local economy and industry",
        CultureSportsTourism = "culture_sports_tourism": "文化・スポーツ・観光" / "Culture, sports and tourism",
        GovernanceDx = "governance_dx": "行政経営・DX・市民自治" / "Administration, DX and civic participation",
    }


    /// What kind of organisation a partner is.
    PartnerKind {
        Company = "company": "企業" / "Company",
        University = "university": "大学・研究機関" / "University or research institute",
        Npo = "npo": "NPO・市民団体" / "NPO or civic group",
        Other = "other": "その他団体" / "Other organisation",
    }


    /// What an offer gives.
    OfferKind {
        Technology = "technology": "技術・製品・サービス" / "Technology, product or service",
        Expertise = "expertise": "知見・人材" / "Expertise and people",
        Research = "research": "研究・調査" / "Research",
        Funding = "funding": "資金・寄附" / "Funding or donation",
        Facility = "facility": "場所・設備" / "Space or equipment",
        Volunteer = "volunteer": "人手・ボランティア" / "Hands and volunteers",
        Other = "other": "その他" / "Other",
    }


    /// Staff roles; partners are not staff and have no role here.
    Role {
        Department = "department": "所管課" / "Department",
        Desk = "desk": "共創窓口" / "Co-creation desk",
        Admin = "admin": "管理者" / "Administrator",
    }


    NeedStatus {
        Draft = "draft": "下書き" / "Draft",
        Open = "open": "募集中" / "Open",
        Closed = "closed": "募集終了" / "Closed",
    }


    Visibility {
        Public = "public": "公開" / "Public",
        Internal = "internal": "庁内限定" / "Internal only",
    }


    OfferStatus {
        Active = "active": "掲載中" / "Listed",
        Archived = "archived": "掲載終了" / "Archived",
    }


    PartnerStatus {
        Active = "active": "有効" / "Active",
        Suspended = "suspended": "利用停止" / "Suspended",
    }


    /// A staff user's access: a disabled user cannot sign in or use API keys.
    StaffStatus {
        Active = "active": "有効" / "Active",
        Disabled = "disabled": "無効" / "Disabled",
    }


    Locale {
        Ja = "ja": "日本語" / "日本語",
        En = "en": "English" / "English",
    }


    /// How a proposal reached the desk.
    Channel {
        Api = "api": "Web・API" / "Web / API",
        Phone = "phone": "電話" / "Phone",
        Visit = "visit": "来庁" / "Visit",
        Email = "email": "メール" / "E-mail",
        Event = "event": "イベント" / "Event",
    }


    /// Where a proposal is in its life; transitions are checked in `proposals::workflow`.
    ProposalState {
        Received = "received": "受付済" / "Received",
        Routed = "routed": "所管課確認中" / "With the department",
        InDialogue = "in_dialogue": "対話中" / "In dialogue",
        Adopted = "adopted": "採択" / "Adopted",
        Declined = "declined": "見送り" / "Declined",
        Withdrawn = "withdrawn": "取り下げ" / "Withdrawn",
    }


    /// Why a proposal was declined; the free text that goes with it is sent to the proposer.
    DeclineReason {
        OutOfScope = "out_of_scope": "市の事業の範囲外" / "Outside the city's work",
        PromotionOnly = "promotion_only": "製品・サービスの宣伝のみ" / "Only promotes a product or service",
        Duplicate = "duplicate": "既存の提案・事業と重複" / "Duplicates an existing proposal or project",
        NotFeasibleNow = "not_feasible_now": "現時点では実施困難" / "Not feasible at present",
        NoBudget = "no_budget": "予算の確保が困難" / "No budget available",
        Other = "other": "その他" / "Other",
    }


    /// What happened to a proposal, for its audit trail.
    EventKind {
        Received = "received": "受付" / "Received",
        Routed = "routed": "所管課へ回付" / "Routed to department",
        Rerouted = "rerouted": "回付先変更" / "Re-routed",
        Note = "note": "庁内メモ" / "Internal note",
        Reply = "reply": "回答・連絡" / "Reply to proposer",
        StateChanged = "state_changed": "状態変更" / "State changed",
        Paused = "paused": "資料待ち（期限停止）" / "Waiting for proposer (clocks paused)",
        Resumed = "resumed": "期限再開" / "Clocks resumed",
        Extended = "extended": "期限延長" / "Due date extended",
        Message = "message": "提案者からの連絡" / "Message from proposer",
        AttachmentAdded = "attachment_added": "添付ファイルを追加" / "File attached",
        /// The 担当者 was set, changed or cleared (internal).
        Assigned = "assigned": "担当者の設定" / "Assignee set",
        /// A department handed the proposal back to the desk as not theirs (所管外).
        Returned = "returned": "所管外として窓口へ返却" / "Returned to the desk as not theirs",
        /// What an adopted proposal achieved (`domain::outcomes`).
        OutcomeRecorded = "outcome_recorded": "成果の記録" / "Outcome recorded",
    }

    /// The kinds of file a proposal may carry, as detected from the bytes
    /// (`domain::attachments::sniff`), never from the name or the declared type.
    AttachmentKind {
        Pdf = "pdf": "PDF" / "PDF",
        Docx = "docx": "Word" / "Word",
        Xlsx = "xlsx": "Excel" / "Excel",
        Pptx = "pptx": "PowerPoint" / "PowerPoint",
        Doc = "doc": "Word（旧形式）" / "Word (legacy format)",
        Xls = "xls": "Excel（旧形式）" / "Excel (legacy format)",
        Ppt = "ppt": "PowerPoint（旧形式）" / "PowerPoint (legacy format)",
        Png = "png": "PNG画像" / "PNG image",
        Jpeg = "jpeg": "JPEG画像" / "JPEG image",
    }


    /// The kinds of notice a recipient can choose a delivery for
    /// (`domain::notifications::Kind`); each is also the name of its mail template.
    NoticeKind {
        /// 受付のお知らせ (to the proposer).
        ProposalReceived = "proposal_received": "提案の受付" / "Proposal received",
        /// 回付のお知らせ (to the department).
        ProposalRouted = "proposal_routed": "提案の回付" / "Proposal routed",
        /// A department handed a proposal back as not theirs, 所管外 (to the desk).
        ProposalReturned = "proposal_returned": "所管外の返却" / "Proposal returned to the desk",
        /// State changes and decisions, with decline reasons (to the proposer).
        ProposalStatus = "proposal_status": "提案の状況" / "Proposal status",
        /// Answers from the municipality (to the proposer).
        ProposalReply = "proposal_reply": "提案への回答" / "Reply to a proposal",
        /// Due soon / overdue (to the department and the desk).
        DeadlineReminder = "deadline_reminder": "期限のお知らせ" / "Deadline reminder",
        /// A need passed its open-until date and was closed (to its department).
        NeedExpired = "need_expired": "ニーズの募集期限" / "Need closed at its deadline",
        /// A new need or offer that fits yours.
        MatchAlert = "match_alert": "新着マッチ" / "New match",
        /// New results of a saved search.
        SavedSearch = "saved_search": "保存した検索" / "Saved search",
        /// A proposal arrived (to the desk; admins who turn it on).
        NewProposal = "new_proposal": "新しい提案" / "New proposal",
        /// The week's figures with a CSV attachment (to the desk and admins).
        WeeklyReport = "weekly_report": "週次レポート" / "Weekly report",
    }


    /// A recipient's choice of delivery for one kind of notice
    /// (`domain::notifications::Choice`).
    DeliveryChoice {
        Immediate = "immediate": "すぐに送る" / "Immediately",
        Daily = "daily": "毎日まとめて送る" / "Daily digest",
        Weekly = "weekly": "毎週まとめて送る" / "Weekly digest",
        Off = "off": "送らない" / "Off",
    }


    /// Where a mail of the outbox is (`mail::outbox`, `mail::claim`).
    MailStatus {
        Pending = "pending": "送信待ち" / "Pending",
        Sending = "sending": "送信中" / "Sending",
        Sent = "sent": "送信済み" / "Sent",
        Failed = "failed": "送信失敗" / "Failed",
        Digested = "digested": "まとめ送信に統合" / "In a digest",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_and_has_both_labels() {
        for v in all_vocabularies() {
            assert!(!v.words.is_empty(), "{}", v.name);
        }
        for &r in DeclineReason::ALL {
            assert_eq!(DeclineReason::from_db(r.as_str()), Ok(r));
            assert!(!r.label_ja().is_empty() && !r.label_en().is_empty());
            assert_ne!(
                r.label(Locale::En),
                r.as_str(),
                "English shows a label, not a code"
            );
        }
    }

    #[test]
    fn an_unknown_stored_word_is_an_error_not_a_panic() {
        let e = DeclineReason::from_db("no_money").unwrap_err();
        assert_eq!(e.vocabulary, "DeclineReason");
        assert_eq!(e.word, "no_money");
        assert!(ProposalState::from_db("").is_err());
    }
}
