//! The Japanese text of `kyoso load-seed`: a deterministic random generator, the
//! municipalities the load scenario uses, and municipal prose for needs, offers and
//! proposals built from a hand-written vocabulary by templates (the idea and most words
//! of the benchmark corpus generator, shared/bench/make_corpus.py: every pool is drawn
//! with Zipf-like weights, so there are very common and very rare words, as in real
//! municipal documents).

/// SplitMix64: small, fast and the same on every platform, so one seed gives one database.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One item, uniformly.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    /// One item with Zipf-like weights: the first items of a list are the most frequent.
    pub fn zipf<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        let n = items.len();
        if n == 0 {
            return "";
        }
        // Harmonic weights 1/r; the sum is cheap for lists of a few dozen words.
        let total: f64 = (1..=n).map(|r| 1.0 / r as f64).sum();
        let mut x = self.unit() * total;
        for (r, item) in items.iter().enumerate() {
            x -= 1.0 / (r + 1) as f64;
            if x <= 0.0 {
                return item;
            }
        }
        items.last().copied().unwrap_or("")
    }
}

/// Municipalities of the load scenario: (local government code with check digit, name).
/// The prefecture is the code's first two digits (see [`prefecture`]).
pub const MUNICIPALITIES: &[(&str, &str)] = &[
    ("141003", "横浜市"),
    ("271004", "大阪市"),
    ("231002", "名古屋市"),
    ("011002", "札幌市"),
    ("401307", "福岡市"),
    ("281000", "神戸市"),
    ("261009", "京都市"),
    ("141305", "川崎市"),
    ("111007", "さいたま市"),
    ("341002", "広島市"),
    ("041009", "仙台市"),
    ("121002", "千葉市"),
    ("401005", "北九州市"),
    ("271403", "堺市"),
    ("151009", "新潟市"),
    ("221309", "浜松市"),
    ("431001", "熊本市"),
    ("141500", "相模原市"),
    ("221007", "静岡市"),
    ("331007", "岡山市"),
    ("131016", "千代田区"),
    ("131130", "渋谷区"),
    ("131041", "新宿区"),
    ("131211", "足立区"),
    ("132012", "八王子市"),
    ("132098", "町田市"),
    ("012025", "函館市"),
    ("022012", "青森市"),
    ("032018", "盛岡市"),
    ("052019", "秋田市"),
    ("062014", "山形市"),
    ("072010", "福島市"),
    ("082015", "水戸市"),
    ("092011", "宇都宮市"),
    ("102016", "前橋市"),
    ("162019", "富山市"),
    ("172014", "金沢市"),
    ("182010", "福井市"),
    ("192015", "甲府市"),
    ("202011", "長野市"),
    ("212016", "岐阜市"),
    ("242012", "津市"),
    ("252018", "大津市"),
    ("292010", "奈良市"),
    ("302015", "和歌山市"),
    ("312011", "鳥取市"),
    ("322016", "松江市"),
    ("352039", "山口市"),
    ("362018", "徳島市"),
    ("372013", "高松市"),
    ("382019", "松山市"),
    ("392014", "高知市"),
    ("412015", "佐賀市"),
    ("422011", "長崎市"),
    ("442011", "大分市"),
    ("452017", "宮崎市"),
    ("462012", "鹿児島市"),
    ("472018", "那覇市"),
    ("202029", "松本市"),
    ("262021", "福知山市"),
];

/// The prefecture of a municipality code ("141003" → 神奈川県).
pub fn prefecture(code: &str) -> &'static str {
    crate::values::codes::MunicipalityCode::parse(code)
        .ok()
        .and_then(|c| c.prefecture_name())
        .unwrap_or("東京都")
}

/// The zones (地域区分) every load municipality has.
pub const ZONES: &[&str] = &["北部地区", "中部地区", "南部地区", "沿岸地区"];

/// One policy field of kyoso's vocabulary with the words its texts are made of.
pub struct Field {
    /// kyoso's word (`PolicyField`).
    pub code: &'static str,
    /// The department that owns it in every load municipality.
    pub department: &'static str,
    pub problems: &'static [&'static str],
    pub solutions: &'static [&'static str],
    pub terms: &'static [&'static str],
}

pub const FIELDS: &[Field] = &[
    Field {
        code: "safety",
        department: "危機管理課",
        problems: &[
            "災害時の情報伝達",
            "避難所運営の負担",
            "要支援者の避難誘導",
            "河川の氾濫リスク",
            "土砂災害の早期把握",
            "防災無線が聞こえにくい地域",
            "帰宅困難者対策",
            "備蓄品の在庫管理",
            "被災状況の把握の遅れ",
            "消防団員の担い手不足",
            "冠水しやすい道路の監視",
            "停電時の通信確保",
        ],
        solutions: &[
            "防災アプリ",
            "避難所管理システム",
            "河川水位センサー",
            "ハザードマップのデジタル化",
            "災害情報の一斉配信",
            "ドローンによる被災状況調査",
            "安否確認システム",
            "備蓄品管理クラウド",
            "AIによる被害予測",
            "避難行動要支援者名簿の電子化",
            "冠水センサー",
        ],
        terms: &[
            "防災",
            "減災",
            "避難",
            "避難所",
            "災害",
            "地震",
            "豪雨",
            "台風",
            "津波",
            "ハザードマップ",
            "自主防災組織",
            "防災訓練",
            "福祉避難所",
            "流域治水",
        ],
    },
    Field {
        code: "childcare_education",
        department: "こども未来課",
        problems: &[
            "待機児童の解消",
            "保育士の確保",
            "子育ての孤立化",
            "放課後の居場所不足",
            "教員の長時間労働",
            "不登校児童への支援",
            "学童保育の定員不足",
            "児童虐待の早期発見",
            "部活動の地域移行",
            "病児保育の不足",
            "通学路の安全確保",
        ],
        solutions: &[
            "オンライン相談窓口",
            "子育て支援アプリ",
            "保育所入所AIマッチング",
            "デジタル母子手帳",
            "校務DX",
            "オンライン学習教材",
            "見守りGPS端末",
            "一時預かりの予約システム",
            "プログラミング教育",
            "子ども食堂の運営支援",
            "保育記録の自動作成",
        ],
        terms: &[
            "子育て",
            "子育て支援",
            "保育",
            "保育園",
            "小学校",
            "中学校",
            "教育",
            "学童",
            "放課後",
            "児童館",
            "出産",
            "育児",
            "探究学習",
            "特別支援教育",
        ],
    },
    Field {
        code: "health_welfare",
        department: "高齢福祉課",
        problems: &[
            "独居高齢者の見守り",
            "介護人材の不足",
            "認知症の早期発見",
            "フレイル予防",
            "孤独・孤立対策",
            "買い物困難者への対応",
            "ひきこもり支援",
            "健診受診率の低さ",
            "医師不足",
            "生活習慣病の予防",
            "民生委員のなり手不足",
        ],
        solutions: &[
            "高齢者見守りサービス",
            "見守りセンサー",
            "介護ロボット",
            "オンライン診療",
            "認知症予防プログラム",
            "ICTを活用した介護記録",
            "スマートスピーカーによる声かけ",
            "健康ポイント",
            "介護予防アプリ",
            "AI健康相談",
            "移動販売車",
        ],
        terms: &[
            "高齢者",
            "見守り",
            "介護",
            "福祉",
            "認知症",
            "地域包括支援センター",
            "ケアマネジャー",
            "健康",
            "医療",
            "健診",
            "保健師",
            "社会福祉協議会",
            "フレイル",
            "バリアフリー",
        ],
    },
    Field {
        code: "environment_energy",
        department: "環境政策課",
        problems: &[
            "温室効果ガスの削減",
            "ごみの減量",
            "再生可能エネルギーの導入",
            "公共施設の電力コスト",
            "不法投棄の監視",
            "食品ロスの削減",
            "海洋プラスチックごみ",
            "森林の荒廃",
            "猛暑による熱中症",
            "粗大ごみ収集の非効率",
        ],
        solutions: &[
            "太陽光発電",
            "PPAモデル",
            "地域新電力",
            "ごみ収集ルートの最適化",
            "不法投棄監視カメラ",
            "EV充電設備",
            "省エネ診断",
            "バイオマス発電",
            "小水力発電",
            "フードシェアリング",
            "ZEB化",
        ],
        terms: &[
            "脱炭素",
            "環境",
            "エネルギー",
            "ゼロカーボンシティ",
            "CO2",
            "リサイクル",
            "ごみ",
            "カーボンニュートラル",
            "省エネ",
            "生物多様性",
            "SDGs",
            "循環経済",
            "蓄電池",
        ],
    },
    Field {
        code: "infrastructure_mobility",
        department: "都市交通課",
        problems: &[
            "路線バスの廃止",
            "公共交通空白地域",
            "運転手不足",
            "交通弱者の移動手段",
            "駅までのラストワンマイル",
            "空き家の増加",
            "インフラの老朽化",
            "橋梁点検の負担",
            "道路損傷の把握",
            "下水道管の劣化",
            "通院のための移動手段",
        ],
        solutions: &[
            "デマンド交通",
            "オンデマンドバス",
            "MaaS",
            "自動運転バス",
            "AI配車システム",
            "シェアサイクル",
            "乗合タクシー",
            "空き家バンク",
            "インフラ点検ドローン",
            "道路損傷AI検知",
            "3D都市モデル",
            "漏水検知",
        ],
        terms: &[
            "地域交通",
            "公共交通",
            "路線バス",
            "コミュニティバス",
            "交通",
            "モビリティ",
            "鉄道",
            "駅",
            "空き家",
            "まちづくり",
            "インフラ",
            "道路",
            "上下水道",
            "公園",
        ],
    },
    Field {
        code: "economy_industry",
        department: "産業振興課",
        problems: &[
            "中小企業の人手不足",
            "事業承継",
            "創業支援",
            "若者の流出",
            "地場産業の衰退",
            "鳥獣被害",
            "農業の担い手不足",
            "耕作放棄地の増加",
            "商店街の空き店舗",
            "地場産品の販路開拓",
        ],
        solutions: &[
            "ビジネスマッチング",
            "創業支援プログラム",
            "リスキリング講座",
            "副業人材マッチング",
            "サテライトオフィス誘致",
            "スマート農業",
            "ICTわな",
            "農地マッチング",
            "ECサイトでの販路開拓",
            "事業承継マッチング",
        ],
        terms: &[
            "雇用",
            "産業",
            "企業",
            "創業",
            "人材育成",
            "就労",
            "農業",
            "林業",
            "水産業",
            "耕作放棄地",
            "地域経済",
            "補助金",
            "6次産業化",
        ],
    },
    Field {
        code: "culture_sports_tourism",
        department: "観光課",
        problems: &[
            "観光客の減少",
            "オーバーツーリズム",
            "インバウンド対応",
            "観光消費額の低さ",
            "観光情報の発信不足",
            "滞在時間の短さ",
            "文化財の保存",
            "図書館の利用低迷",
            "スポーツ施設の老朽化",
            "伝統工芸の後継者不足",
        ],
        solutions: &[
            "観光DX",
            "多言語案内",
            "観光アプリ",
            "デジタルスタンプラリー",
            "人流データ分析",
            "ワーケーション",
            "体験型観光",
            "デジタルアーカイブ",
            "電子図書館",
            "施設予約システム",
            "eスポーツ",
        ],
        terms: &[
            "観光",
            "観光客",
            "インバウンド",
            "地域振興",
            "商店街",
            "関係人口",
            "特産品",
            "温泉",
            "祭り",
            "文化",
            "スポーツ",
            "図書館",
            "文化財",
            "生涯学習",
        ],
    },
    Field {
        code: "governance_dx",
        department: "デジタル推進課",
        problems: &[
            "窓口の待ち時間",
            "紙の申請書の多さ",
            "職員の業務負担",
            "問い合わせ対応の負荷",
            "システムの標準化対応",
            "情報セキュリティー対策",
            "議事録作成の負担",
            "庁内データの分散",
            "デジタル人材の不足",
            "高齢者のデジタルデバイド",
            "町内会の加入率低下",
        ],
        solutions: &[
            "AIチャットボット",
            "電子申請システム",
            "RPA導入",
            "書かない窓口",
            "AI議事録",
            "ガバメントクラウド移行",
            "ノーコード開発",
            "生成AIの業務活用",
            "電子契約",
            "オンライン手続き",
            "デジタル活用支援員",
            "AI-OCR",
        ],
        terms: &[
            "DX",
            "デジタル化",
            "業務効率化",
            "オンライン",
            "行政手続き",
            "窓口",
            "マイナンバー",
            "セキュリティー",
            "システム",
            "データ連携",
            "クラウド",
            "標準化",
            "EBPM",
            "市民協働",
        ],
    },
];

const TARGETS: &[&str] = &[
    "住民",
    "高齢者",
    "子ども",
    "子育て世帯",
    "事業者",
    "観光客",
    "障害者",
    "外国人住民",
    "若者",
    "保護者",
    "児童生徒",
    "中小企業",
    "農業者",
    "ひとり親家庭",
    "要介護者",
    "移住希望者",
    "買い物弱者",
    "独居高齢者",
    "医療的ケア児",
    "町内会",
    "民生委員",
    "ヤングケアラー",
];

const TECHS: &[&str] = &[
    "AI",
    "IoT",
    "クラウド",
    "ドローン",
    "センサー",
    "スマートフォンアプリ",
    "LINE",
    "GIS",
    "データ分析",
    "生成AI",
    "RPA",
    "タブレット端末",
    "5G",
    "LPWA",
    "画像解析",
    "電子申請",
    "オープンデータ",
    "デジタルツイン",
    "キャッシュレス決済",
    "マイナンバーカード",
    "ビーコン",
    "音声認識",
    "OCR",
    "ノーコードツール",
    "API連携",
    "衛星データ",
    "自動運転",
    "EV",
];

const PLACES: &[&str] = &[
    "東京都",
    "京都",
    "大阪府",
    "北海道",
    "神奈川県",
    "愛知県",
    "福岡県",
    "沖縄県",
    "兵庫県",
    "首都圏",
    "関西圏",
    "九州",
    "東北地方",
    "中山間地域",
    "瀬戸内",
    "離島",
    "三陸沿岸",
    "能登半島",
    "房総半島",
    "阿蘇地域",
];

const RARE: &[&str] = &[
    "ナッジ理論",
    "ウェルビーイング",
    "リビングラボ",
    "シビックテック",
    "成果連動型民間委託契約",
    "アジャイル型開発",
    "ハッカソン",
    "デザイン思考",
    "ロジックモデル",
    "ベース・レジストリ",
    "パーソナルデータストア",
    "ローカル5G",
    "ソーラーシェアリング",
    "ブルーカーボン",
    "ジオパーク",
    "古民家再生",
    "二地域居住",
    "お試し移住",
    "ゼブラ企業",
    "クラウドファンディング",
    "ガバメントピッチ",
    "逆プロポーザル",
];

const EXISTING: &[&str] = &[
    "基幹系システム",
    "住民記録システム",
    "GISシステム",
    "防災行政無線",
    "庁内ネットワーク",
    "電子申請サービス",
    "LINE公式アカウント",
    "ホームページ",
    "コールセンター",
    "文書管理システム",
];

const KPIS: &[&str] = &[
    "利用者数",
    "満足度",
    "処理時間",
    "問い合わせ件数",
    "CO2排出量",
    "来訪者数",
    "受診率",
    "待ち時間",
    "職員の作業時間",
    "稼働率",
];

const YEARS: &[&str] = &["令和7", "令和8", "2025", "2026", "令和9", "2027"];

const NEED_TITLES: &[&str] = &[
    "{solution}による{problem}の解決",
    "{problem}に向けた{solution}の導入",
    "{target}向け{solution}の実証事業",
    "{term}分野における{solution}の提案募集",
    "{muni}の{problem}を解決するパートナー募集",
    "{solution}を活用した{term}の推進",
    "{tech}で{problem}を改善したい",
];

const NEED_SENTENCES: &[&str] = &[
    "{muni}では、{problem}が大きな課題となっています。",
    "近年、{target}の増加に伴い、{problem}が深刻化しています。",
    "本市では{year}年度から{term}に取り組んでいますが、{problem}が残っています。",
    "現在は職員が手作業で対応していますが、{target}からの要望に十分応えられていません。",
    "そこで、{solution}を活用して{problem}を解消したいと考えています。",
    "{tech}と{tech2}を組み合わせた{solution}の提案を求めます。",
    "特に{zone}では{problem}が顕著です。",
    "実証期間は{months}か月程度を想定しており、費用は{budget}万円以内を目安とします。",
    "先行事例のある事業者や大学、NPOとの連携を歓迎します。",
    "{target}や{target2}が使いやすい仕組みであることが望ましいです。",
    "既存の{existing}との連携が可能な提案を優先します。",
    "{term}に関する庁内の検討会で{solution}の必要性が指摘されました。",
    "{year}年度の予算化を目指し、まずは小規模な実証から始めたいと考えています。",
    "{rare}の考え方を取り入れた提案も歓迎します。",
    "住民アンケートでは{percent}%が{term}の充実を求めています。",
    "{place}の事例を参考に、導入効果を{kpi}で測定する予定です。",
    "個人情報の取り扱いやセキュリティーの確保について具体的にお示しください。",
];

const OFFER_TITLES: &[&str] = &[
    "{tech}を活用した{solution}",
    "{solution}のご提案（{tech}）",
    "{problem}を解決する{solution}",
    "自治体向け{solution}サービス",
    "{target}向け{solution}の提供",
    "{tech}×{tech2}による{solution}",
];

const OFFER_SENTENCES: &[&str] = &[
    "当社は{years}年にわたり{solution}を提供してきました。",
    "{tech}により{problem}の解消を実現します。",
    "これまでに{place}をはじめ{n}自治体で導入実績があります。",
    "{target}にも使いやすい画面を備え、{tech2}との連携にも対応しています。",
    "初期費用は{budget}万円から、月額利用料は{monthly}万円程度です。",
    "{problem}でお困りの自治体の皆様との協働を希望します。",
    "導入後は{kpi}を定期的に報告し、効果を見える化します。",
    "{term}の専門スタッフが導入から運用まで伴走支援します。",
    "サーバーは国内のデータセンターで運用しています。",
    "実証実験は{months}か月間、無償で実施することも可能です。",
    "{rare}の手法を用いて、住民参加型で進めます。",
    "{place}での実証では{kpi}が{percent}%改善しました。",
    "{existing}とのデータ連携にも対応できます。",
];

const PROPOSAL_TITLES: &[&str] = &[
    "{solution}による{problem}解消のご提案",
    "{muni}における{term}の実証実験のご提案",
    "{tech}を活用した{target}支援の共同実証について",
    "{problem}に関する連携協定のご相談",
    "{solution}の無償トライアルのご案内",
];

const PROPOSAL_SENTENCES: &[&str] = &[
    "貴市の{problem}に関する取り組みを拝見し、ご提案申し上げます。",
    "弊社の{solution}は{place}で{n}件の導入実績があります。",
    "{months}か月間の実証実験を無償で実施し、{kpi}の改善を検証したいと考えています。",
    "{target}と{target2}の双方に配慮し、{tech}と{tech2}を組み合わせて提供します。",
    "既存の{existing}との連携についても担当課とご相談させてください。",
    "{year}年度の事業化に向けて、まずは意見交換の機会をいただけますと幸いです。",
    "{rare}の手法を取り入れ、住民参加型で進めることを想定しています。",
];

const ORG_STEMS: &[&str] = &[
    "みらい",
    "あおば",
    "さくら",
    "ひかり",
    "つばさ",
    "こだま",
    "はるか",
    "いろどり",
    "まほろば",
    "たちばな",
    "ゆうき",
    "しおさい",
];

const ORG_SUFFIXES: &[(&str, &str)] = &[
    ("company", "株式会社{stem}{tech}"),
    ("company", "{stem}ソリューションズ株式会社"),
    ("company", "合同会社{stem}ラボ"),
    ("university", "{place}{stem}大学 地域連携センター"),
    ("npo", "特定非営利活動法人{stem}まちづくりネット"),
    ("npo", "一般社団法人{stem}地域共創機構"),
    ("other", "{stem}商工会"),
];

const FAMILY: &[&str] = &[
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "松本",
    "井上",
    "木村",
];
const GIVEN: &[&str] = &[
    "花子",
    "太郎",
    "陽菜",
    "蓮",
    "美咲",
    "大翔",
    "結衣",
    "悠真",
    "葵",
    "湊",
    "真由美",
    "健一",
];

/// Fills `{slot}` placeholders of a template from `slot` (unknown names stay empty).
fn fill(template: &str, mut slot: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let after = after.get(1..).unwrap_or("");
        match after.find('}') {
            Some(close) => {
                let name = after.get(..close).unwrap_or("");
                out.push_str(&slot(name));
                rest = after.get(close + 1..).unwrap_or("");
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The words one document is written with: the field, the municipality, the zone.
pub struct Context<'a> {
    pub field: &'a Field,
    pub municipality: &'a str,
    pub zone: &'a str,
}

fn slot(rng: &mut Rng, c: &Context, name: &str) -> String {
    let n = |rng: &mut Rng, lo: usize, span: usize| (lo + rng.below(span)).to_string();
    match name {
        "muni" => c.municipality.to_owned(),
        "zone" => c.zone.to_owned(),
        "problem" => rng.zipf(c.field.problems).to_owned(),
        "solution" => rng.zipf(c.field.solutions).to_owned(),
        "term" | "term2" => rng.zipf(c.field.terms).to_owned(),
        "target" | "target2" => rng.zipf(TARGETS).to_owned(),
        "tech" | "tech2" => rng.zipf(TECHS).to_owned(),
        "place" => rng.zipf(PLACES).to_owned(),
        "rare" => rng.zipf(RARE).to_owned(),
        "existing" => rng.zipf(EXISTING).to_owned(),
        "kpi" => rng.zipf(KPIS).to_owned(),
        "year" => rng.zipf(YEARS).to_owned(),
        "stem" => rng.zipf(ORG_STEMS).to_owned(),
        "months" => n(rng, 1, 12),
        "budget" => (50 * (1 + rng.below(40))).to_string(),
        "monthly" => n(rng, 1, 30),
        "years" => n(rng, 2, 25),
        "n" => n(rng, 2, 120),
        "percent" => n(rng, 5, 80),
        _ => String::new(),
    }
}

fn sentence(rng: &mut Rng, c: &Context, template: &str) -> String {
    fill(template, |name| slot(rng, c, name))
}

/// A title and a body of 60–400 characters, sentences in random order (the first one
/// usually the introduction), slots re-drawn for each sentence.
fn document(rng: &mut Rng, c: &Context, titles: &[&str], sentences: &[&str]) -> (String, String) {
    let template = rng_pick(rng, titles);
    let title = sentence(rng, c, template);
    let target = 60 + rng.below(120) + rng.below(220);
    let mut order: Vec<usize> = (0..sentences.len()).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    if rng.chance(0.7)
        && let Some(pos) = order.iter().position(|&i| i == 0)
    {
        order.remove(pos);
        order.insert(0, 0);
    }
    let mut body = String::new();
    for i in order {
        let Some(t) = sentences.get(i) else { continue };
        let s = sentence(rng, c, t);
        if !body.is_empty() && body.chars().count() + s.chars().count() > 400 {
            continue;
        }
        body.push_str(&s);
        if body.chars().count() >= target {
            break;
        }
    }
    (title, body)
}

fn rng_pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    rng.pick(items).copied().unwrap_or("")
}

pub fn need(rng: &mut Rng, c: &Context) -> (String, String) {
    document(rng, c, NEED_TITLES, NEED_SENTENCES)
}

pub fn offer(rng: &mut Rng, c: &Context) -> (String, String) {
    document(rng, c, OFFER_TITLES, OFFER_SENTENCES)
}

pub fn proposal(rng: &mut Rng, c: &Context) -> (String, String) {
    document(rng, c, PROPOSAL_TITLES, PROPOSAL_SENTENCES)
}

/// A partner's kind (kyoso's word) and name; `i` makes the name unique.
pub fn organisation(rng: &mut Rng, i: usize) -> (&'static str, String) {
    let (kind, template) = rng
        .pick(ORG_SUFFIXES)
        .copied()
        .unwrap_or(("company", "{stem}株式会社"));
    let c = Context {
        field: FIELDS.first().unwrap_or(&EMPTY_FIELD),
        municipality: "",
        zone: "",
    };
    let name = sentence(rng, &c, template);
    (kind, format!("{name} 第{}事業部", i + 1))
}

/// One policy field, uniformly.
pub fn pick_field(rng: &mut Rng) -> &'static Field {
    rng.pick(FIELDS).unwrap_or(&EMPTY_FIELD)
}

const EMPTY_FIELD: Field = Field {
    code: "governance_dx",
    department: "デジタル推進課",
    problems: &[],
    solutions: &[],
    terms: &[],
};

/// A person's name, e.g. "佐藤 花子".
pub fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng_pick(rng, FAMILY), rng_pick(rng, GIVEN))
}

/// Words people type into kyoso's search box, from the corpus generator's query list
/// (short keywords, some of one or two characters) and the fields' own terms.
pub fn queries(rng: &mut Rng, count: usize) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "防災",
        "子育て",
        "高齢者",
        "見守り",
        "観光",
        "交通",
        "DX",
        "AI",
        "空き家",
        "ドローン",
        "医療",
        "介護",
        "福祉",
        "教育",
        "保育",
        "農業",
        "脱炭素",
        "避難",
        "健康",
        "バス",
        "駅",
        "ごみ",
        "窓口",
        "アプリ",
        "オンライン",
        "IoT",
        "データ",
        "クラウド",
        "センサー",
        "サーバー",
        "京都",
        "東京都",
        "北海道",
        "鳥獣被害",
        "デマンド交通",
        "AIチャットボット",
        "観光DX",
        "子育て支援",
        "地域交通",
        "高齢者見守り",
        "認知症",
        "図書館",
        "商店街",
        "EV",
        "MaaS",
        "GIS",
        "LINE",
        "RPA",
        "SDGs",
        "実証",
    ];
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let q = match i % 3 {
            0 | 1 => rng_pick(rng, KEYWORDS).to_owned(),
            _ => {
                let field = rng.pick(FIELDS).unwrap_or(&EMPTY_FIELD);
                let term = rng.zipf(field.terms);
                let other = if rng.chance(0.5) {
                    rng.zipf(TECHS)
                } else {
                    rng.zipf(TARGETS)
                };
                format!("{term} {other}")
            }
        };
        out.push(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_text_and_slots_are_all_filled() {
        let c = Context {
            field: &FIELDS[1],
            municipality: "横浜市",
            zone: "北部地区",
        };
        let a = need(&mut Rng::new(7), &c);
        let b = need(&mut Rng::new(7), &c);
        assert_eq!(a, b);
        for seed in 0..200 {
            let mut rng = Rng::new(seed);
            for (t, body) in [
                need(&mut rng, &c),
                offer(&mut rng, &c),
                proposal(&mut rng, &c),
            ] {
                assert!(!t.contains('{') && !body.contains('{'), "{t} {body}");
                assert!(!t.is_empty() && body.chars().count() >= 20, "{t} {body}");
                assert!(body.chars().count() <= 800);
            }
        }
        assert_eq!(prefecture("141003"), "神奈川県");
        assert_eq!(prefecture("472018"), "沖縄県");
    }
}
