//! The word classes of the addressee rules, in English, French, Russian and Azerbaijani: which
//! words name a statement-like document, point at this one, carry a dispatch verb, open the
//! addressees, or tell of another document or time. Words are folded (lower case, straight
//! apostrophes), as [`super::sentence::fold`] makes them.

/// Headings that introduce a list: (heading, introduces copies, may stand alone on its line
/// without a colon).
pub(super) const HEADINGS: &[(&str, bool, bool)] = &[
    ("addressees", false, true), ("addressee", false, false), ("addressed to", false, false),
    ("distribution list", false, true), ("distribution", false, true), ("recipients", false, true),
    ("recipient", false, false), ("sent to", false, false), ("to", false, false),
    ("copies to", true, false), ("copy to", true, false), ("copies", true, false),
    ("copy", true, false), ("cc", true, false), ("c.c.", true, false),
    ("destinataires", false, true), ("destinataire", false, false), ("adressée à", false, false),
    ("adressé à", false, false), ("liste de diffusion", false, true), ("diffusion", false, true),
    ("copie à", true, false), ("copies à", true, false), ("copie", true, false),
    ("ampliation", true, false), ("à", false, false), ("адресаты", false, true),
    ("адресат", false, false), ("адресовано", false, false), ("список рассылки", false, true),
    ("рассылка", false, true), ("получатели", false, true), ("кому", false, false),
    ("копия", true, false), ("копии", true, false), ("ünvanlar", false, true),
    ("ünvan", false, false), ("ünvanlanır", false, false), ("göndərilir", false, false),
    ("paylanma siyahısı", false, true), ("paylama siyahısı", false, true),
    ("alıcılar", false, true), ("kimə", false, false), ("surəti", true, false),
    ("surət", true, false), ("copy for information", true, false),
    ("copies for information", true, false), ("also sent to", true, false),
    ("also addressed to", true, false), ("copie pour information", true, false),
    ("copies pour information", true, false), ("копия для сведения", true, false),
    ("копии для сведения", true, false), ("surəti məlumat üçün", true, false),
];

/// Nouns that name a statement-like document (English and French; Russian below by stems).
pub(super) const EN_FR_NOUNS: &[&str] = &[
    "statement", "appeal", "letter", "declaration", "report", "address", "communication", "communique", "communiqué", "message",
    "petition", "memorandum", "note", "submission", "release", "text", "document", "resolution",
    "call", "plea", "déclaration", "appel", "lettre", "rapport", "adresse", "pétition",
    "mémorandum", "texte", "résolution", "requête", "communiqué",
];

pub(super) const RU_NOUN_STEMS: &[&str] = &[
    "заявлени", "обращени", "письм", "деклараци", "доклад", "отчет", "отчёт", "послани",
    "сообщени", "воззвани", "петици", "меморандум", "документ", "текст", "призыв", "резолюци",
];

pub(super) const AZ_NOUNS: &[&str] = &[
    "bəyanat", "müraciət", "məktub", "hesabat", "məruzə", "çağırış", "sənəd", "mətn", "petisiya",
    "memorandum", "açıqlama",
];

/// Determiners that point at this very document.
pub(super) const STRONG_DETERMINERS: &[&str] = &[
    "this", "these", "cette", "ce", "cet", "ces", "настоящее", "настоящий", "настоящая",
    "настоящие", "настоящего", "настоящей", "настоящих", "данное", "данный", "данная", "данные",
    "данного", "данной", "данных", "это", "этот", "эта", "эти", "этого", "этой", "этих",
];

/// "the", which points at this document only in the present ("The statement is sent to …").
pub(super) const WEAK_DETERMINERS: &[&str] = &["the", "la", "le", "les", "l'"];

/// Adjectives allowed between determiner and noun; those of `PRESENT_ADJECTIVES` make "the" point
/// at this document ("the present statement", "la présente déclaration").
pub(super) const ADJECTIVES: &[&str] = &[
    "complete", "press", "news", "final", "annual", "closing", "solemn", "present", "open",
    "joint", "public", "official", "current", "urgent", "special", "formal", "written", "full",
    "présente", "présent", "présentes", "открытое", "открытого", "совместное", "совместного",
    "официальное", "официального", "публичное",
];
pub(super) const PRESENT_ADJECTIVES: &[&str] = &["present", "présente", "présent", "présentes"];
/// French adjectives after the noun ("lettre ouverte").
pub(super) const POST_ADJECTIVES: &[&str] = &[
    "ouverte", "ouvertes", "conjointe", "conjointes", "publique", "publiques", "officielle",
    "commune", "présente", "présent",
];

/// The verbs' auxiliaries; `PAST_AUX` in a simple past, and `HAVE` for a perfect.
pub(super) const AUX: &[&str] = &[
    "is", "are", "was", "were", "has", "have", "had", "been", "be", "being", "will", "shall",
    "would", "should", "am", "est", "sont", "a", "ont", "été", "sera", "seront", "fut", "était",
    "sera", "va", "être", "было", "был", "была", "были", "будет", "будут",
];
pub(super) const PAST_AUX: &[&str] = &[
    "was", "were", "had", "fut", "était", "было", "был", "была", "были",
];
pub(super) const HAVE: &[&str] = &["have", "has", "avons", "ai", "a", "ont", "avez"];

pub(super) const ALSO: &[&str] = &[
    "also", "additionally", "too", "également", "aussi", "также", "тоже", "həmçinin", "də", "da",
];
pub(super) const ADVERBS: &[&str] = &[
    "hereby", "herewith", "simultaneously", "today", "now", "further", "furthermore", "likewise",
    "officially", "formally", "respectfully", "accordingly", "therefore", "thus", "kindly",
    "concurrently", "hence", "being", "ainsi", "simultanément", "aujourd'hui", "donc",
    "officiellement", "ci-joint", "одновременно", "сегодня", "поэтому", "официально",
    "дополнительно", "ещё", "еще", "настоящим", "eyni", "zamanda", "rəsmi", "hereinafter",
];

/// English passive participles of dispatch verbs.
pub(super) const EN_PARTICIPLES: &[&str] = &[
    "addressed", "sent", "transmitted", "forwarded", "submitted", "directed", "delivered",
    "distributed", "circulated", "communicated", "presented", "conveyed", "dispatched", "copied",
    "mailed", "emailed", "e-mailed", "shared", "remitted",
];
/// French participle stems, with -e, -s, -es agreement.
pub(super) const FR_PARTICIPLES: &[&str] = &[
    "adressé", "envoyé", "transmis", "communiqué", "soumis", "remis", "destiné", "diffusé",
    "expédié", "adressee", "envoye", "porté",
];
/// Russian passive stems: short participles (-о, -а, -ы) and present passives (-ется, -ются).
pub(super) const RU_PASSIVES: &[&str] = &[
    "адресован", "направлен", "отправлен", "разослан", "передан", "препровожден", "представлен",
    "вручен", "адресу", "направля", "отправля", "рассыла", "переда", "препровожда", "представля",
    "доведен",
];

pub(super) const EN_ACTIVE: &[&str] = &[
    "address", "addressing", "send", "sending", "forward", "forwarding", "transmit",
    "transmitting", "submit", "submitting", "direct", "directing", "deliver", "delivering",
    "distribute", "distributing", "circulate", "circulating", "communicate", "communicating",
    "convey", "conveying", "share", "sharing", "dispatch", "dispatching", "addresses", "sends",
    "forwards", "transmits", "submits", "directs", "delivers", "distributes", "circulates",
    "communicates", "conveys", "shares",
];
pub(super) const FR_ACTIVE: &[&str] = &[
    "adressons", "adresse", "adressent", "envoyons", "envoie", "envoient", "transmettons",
    "transmets", "transmet", "transmettent", "communiquons", "communique", "soumettons", "soumets",
    "remettons", "diffusons", "parvenir",
];
pub(super) const RU_ACTIVE: &[&str] = &[
    "направляем", "направляю", "направляет", "направляют", "адресуем", "адресую", "адресует",
    "отправляем", "отправляю", "передаём", "передаем", "передаю", "препровождаем", "рассылаем",
    "представляем", "направили", "направил", "направила", "адресовали", "отправили", "передали",
];

pub(super) const AZ_PASSIVE_STEMS: &[&str] = &[
    "ünvanlan", "göndəril", "çatdırıl", "yönləndiril", "yönəldil", "ötürül", "paylanıl", "paylan",
    "istiqamətləndiril",
];
pub(super) const AZ_PASSIVE_TENSES: &[&str] = &[
    "ır", "ir", "ur", "ür", "ıb", "ib", "ub", "üb", "mışdır", "mişdir", "muşdur", "müşdür", "acaq",
    "əcək", "acaqdır", "əcəkdir", "maqdadır", "məkdədir", "ar", "ər",
];
pub(super) const AZ_ACTIVE_STEMS: &[&str] = &[
    "göndərir", "ünvanlayır", "çatdırır", "yönləndirir", "ötürür", "göndərəcə", "ünvanlayaca",
    "göndərmiş", "ünvanlamış", "təqdim",
];
pub(super) const AZ_PERSON: &[&str] = &[
    "ik", "ıq", "uq", "ük", "əm", "am", "əyik", "ağıq", "ik.", "k", "q",
];
pub(super) const AZ_DETERMINERS: &[&str] = &["bu", "hazırkı", "işbu", "həmin"];
pub(super) const AZ_ADJECTIVES: &[&str] = &["açıq", "birgə", "rəsmi"];
pub(super) const AZ_INTRO: &[&str] = &["həmçinin", "eyni", "zamanda", "beləliklə", "və"];

/// Words opening the addressees after the verb.
pub(super) const PREPOSITIONS: &[&str] = &[
    "to", "unto", "à", "au", "aux", "auprès", "в", "во", "к", "ко", "на",
];
pub(super) const ARTICLES: &[&str] = &["the", "la", "le", "les", "l'"];
/// Words announcing a list after a colon ("the following", "suivants", "следующим", "aşağıdakı").
pub(super) const FOLLOWING: &[&str] = &[
    "following", "below", "suivant", "ci-dessous", "следующ", "ниже", "aşağıdakı",
];

/// Words of a habit, not of this document's dispatch: "We send our report to … every year".
pub(super) const HABITUAL: &[&str] = &[
    "annually", "regularly", "usually", "always", "often", "routinely", "habitually",
    "régulièrement", "toujours", "habituellement", "ежегодно", "регулярно", "обычно", "всегда",
    "ежемесячно", "mütəmadi", "həmişə", "adətən",
];
pub(super) const HABITUAL_PAIRS: &[(&str, &str)] = &[
    ("every", "year"), ("each", "year"), ("every", "month"), ("each", "month"), ("every", "week"),
    ("chaque", "année"), ("chaque", "mois"), ("каждый", "год"), ("каждый", "месяц"), ("hər", "il"),
    ("hər", "ay"),
];

/// Subject pronouns: a clause of its own starts with them.
pub(super) const SUBJECT_PRONOUNS: &[&str] = &[
    "i", "we", "they", "nous", "je", "ils", "elles", "мы", "я", "они", "biz", "mən", "onlar",
];

/// Words opening a clause after the list of addressees: the list ends before them.
pub(super) const CLAUSE_STARTS: &[&str] = &[
    "with our", "with their", "with my", "avec nos", "avec notre", "avec leur", "avec mes",
    "с нашими", "с нашей", "с уважением", "whose", "where", "whereby", "чья", "чьи", "чей", "dont",
    "in the hope", "hoping", "with the request", "with a request", "with a view", "calling on",
    "calling upon", "urging", "asking them", "requesting", "in order to", "so that", "which",
    "who", "whom", "and call", "and calls", "and urge", "and urges", "and ask", "and asks",
    "and request", "and requests", "and invite", "and invites", "for information",
    "for their information", "for their attention", "for consideration", "with the call",
    "dans l'espoir", "afin de", "afin qu'", "pour qu'", "pour que", "en les invitant",
    "en leur demandant", "et les invitons", "et les appelons", "et appelons", "et demandons",
    "avec la demande", "avec la prière", "pour information", "qui", "с просьбой", "с призывом",
    "призывая", "и призываем", "и просим", "и надеемся", "в надежде", "с тем чтобы", "чтобы",
    "для сведения", "для информации", "которые", "который", "которая", "которое", "чья", "чьи",
    "чей", "dont",
];

/// The document's text, which is the document: "the full text of this statement".
pub(super) const TEXT_OF: &[&str] = &["text", "texte", "текст", "version", "wording"];

/// Copies of the document.
pub(super) const COPIES: &[&str] = &[
    "copies", "copy", "copie", "copies", "копии", "копия", "копию",
];
pub(super) const COPY_OF: &[&str] = &["of", "de", "du"];

/// Words before the subject that keep it the sentence's subject.
pub(super) const INTRO: &[&str] = &[
    "and", "also", "finally", "therefore", "accordingly", "hence", "so", "thus", "moreover",
    "furthermore", "additionally", "lastly", "et", "enfin", "donc", "aussi", "ainsi", "и", "а",
    "поэтому", "итак", "также",
];
/// Prepositions opening a short qualifier after the noun ("of the Commissioner").
pub(super) const QUALIFIER_PREPOSITIONS: &[&str] = &[
    "of", "by", "from", "on", "de", "du", "des", "par", "sur", "d'", "adopted", "issued", "signed",
];
/// Words that open a clause of their own: the noun before them is not the verb's subject.
pub(super) const BLOCKERS: &[&str] = &[
    "which", "that", "who", "whom", "whose", "where", "when", "we", "i", "they", "he", "she",
    "you", "if", "whether", "qui", "que", "qu'", "dont", "où", "nous", "je", "j'", "ils", "elle",
    "il", "si", "который", "которое", "которая", "которые", "которого", "которой", "мы", "я",
    "они", "если", "когда", "ki",
];
pub(super) const RELATIVES: &[&str] = &[
    "which", "that", "who", "qui", "que", "qu'", "который", "которое", "которая", "которые",
];
pub(super) const PRONOUNS: &[&str] = &["we", "i", "nous", "je", "j'", "мы", "я", "biz", "mən"];
pub(super) const NEGATIONS: &[&str] = &[
    "not", "never", "ne", "n'", "pas", "не", "ни", "deyil", "heç",
];
/// Words of a possibility or a condition: "Настоящее заявление может быть направлено в …",
/// "Si la présente déclaration devait être transmise à …" speak of a sending that may not happen.
pub(super) const HYPOTHETICAL: &[&str] = &[
    "may", "might", "could", "if", "si", "pourrait", "pourra", "peut", "может", "могут", "можно",
    "могло", "могла", "мог", "бы", "если", "əgər",
];
/// Words of an earlier time: a sentence holding one before its verb tells of another document.
pub(super) const PAST_MARKERS: &[&str] = &[
    "previous", "previously", "earlier", "last", "former", "formerly", "ago", "yesterday",
    "précédent", "précédemment", "auparavant", "dernier", "dernière", "hier", "ранее", "прежде",
    "прошл", "предыдущ", "вчера", "əvvəl", "keçən", "öncə", "dünən",
];

/// General audiences: a sentence addressed to them alone names no institution.
pub(super) const AUDIENCES: &[&str] = &[
    "international community", "world community", "world public opinion", "public opinion",
    "world public", "people of good will", "everyone", "humanity", "mankind", "the public",
    "communauté internationale", "opinion publique", "hommes de bonne volonté", "мировому сообществу",
    "международному сообществу", "мировое сообщество", "международное сообщество",
    "мировой общественности", "международной общественности", "общественности", "общественность",
    "beynəlxalq ictimaiyyətə", "beynəlxalq ictimaiyyət", "dünya ictimaiyyətinə", "dünya ictimaiyyəti",
    "dünya birliyinə", "beynəlxalq birliyə", "ictimaiyyətə", "ictimaiyyət", "public", "mass media",
    "media", "press", "средствам массовой информации", "сми", "kütləvi informasiya vasitələrinə",
    "kiv", "médias", "presse",
];
/// What may join audiences: articles, "all", "and", "to".
pub(super) const AUDIENCE_GLUE: &[&str] = &[
    "the", "all", "and", "to", "whole", "entire", "la", "le", "les", "l'", "à", "et", "tous", "toute",
    "и", "всей", "всему", "ко", "к", "вся", "və", "bütün", "whole",
];

/// Russian past forms of the author's verbs: "Мы направили настоящее заявление …".
pub(super) const RU_ACTIVE_PAST: &[&str] = &[
    "направили", "направил", "направила", "адресовали", "отправили", "передали",
];
