//! Dates written out in a letter's language: the `{{long_date statement.date}}` helper.
//!
//! `27 May 2021`, `1er août 2021`, `27 мая 2021 г.`, `27 may 2021-ci il`. Kept apart because the
//! month tables and the Azerbaijani ordinal suffix are language rules, not rendering; the same
//! functions tell whether a statement's title already gives its date.

use chrono::NaiveDate;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason,
};

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `{{long_date statement.date}}`: `2021-05-27` → `27 May 2021` (`27 mai 2021`, and French
/// `1er` for the first day, in a French folder; `27 мая 2021 г.` in Russian, `27 may 2021-ci il`
/// in Azerbaijani); an empty date renders nothing.
pub(super) struct LongDate {
    /// The folder's primary language subtag.
    pub(super) primary: String,
}

impl HelperDef for LongDate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let value = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("long_date", 0))?;
        if value.is_empty() {
            return Ok(());
        }
        let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| RenderErrorReason::InvalidParamType("a date such as `2021-05-27`"))?;
        let long = match self.primary.as_str() {
            "ru" => long_date_ru(date),
            "az" => long_date_az(date),
            primary => long_date(date, primary == "fr"),
        };
        out.write(&long)?;
        Ok(())
    }
}

const MONTHS_RU_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_AZ: [&str; 12] = [
    "yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avqust", "sentyabr", "oktyabr",
    "noyabr", "dekabr",
];

/// `27 мая 2021 г.`, as Russian official letters date a document.
pub(super) fn long_date_ru(date: NaiveDate) -> String {
    use chrono::Datelike;
    let month = MONTHS_RU_GENITIVE[date.month0() as usize];
    format!("{} {month} {} г.", date.day(), date.year())
}

/// `27 may 2021-ci il`: the ordinal suffix follows the vowel of the year's last spoken word
/// (bir → -ci, üç → -cü, altı → -cı, doqquz → -cu, on → -cu, qırx → -cı, yüz → -cü, min → -ci).
pub(super) fn long_date_az(date: NaiveDate) -> String {
    use chrono::Datelike;
    let year = date.year().unsigned_abs();
    const UNITS: [&str; 10] = ["", "ci", "ci", "cü", "cü", "ci", "cı", "ci", "ci", "cu"];
    const TENS: [&str; 10] = ["", "cu", "ci", "cu", "cı", "ci", "cı", "ci", "ci", "cı"];
    let digit = |place: u32| (year / place % 10) as usize;
    let suffix = match (digit(1), digit(10), digit(100)) {
        (units @ 1..=9, _, _) => UNITS[units],
        (0, tens @ 1..=9, _) => TENS[tens],
        (0, 0, 1..=9) => "cü",
        _ => "ci",
    };
    let month = MONTHS_AZ[date.month0() as usize];
    format!("{} {month} {}-{suffix} il", date.day(), date.year())
}

pub(super) fn long_date(date: NaiveDate, french: bool) -> String {
    use chrono::Datelike;
    let day = date.day();
    let months = if french { &MONTHS_FR } else { &MONTHS_EN };
    let month = months[date.month0() as usize];
    if day == 1 && french {
        format!("1er {month} {}", date.year())
    } else {
        format!("{day} {month} {}", date.year())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn long_dates() {
        let cases = [
            ((2021, 5, 27), false, "27 May 2021"),
            ((2021, 5, 27), true, "27 mai 2021"),
            ((2021, 8, 1), true, "1er août 2021"),
            ((2021, 12, 1), false, "1 December 2021"),
        ];
        for ((y, m, d), french, expected) in cases {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(long_date(date, french), expected);
        }
        let local = [
            ((2021, 5, 27), "27 мая 2021 г.", "27 may 2021-ci il"),
            ((2023, 4, 4), "4 апреля 2023 г.", "4 aprel 2023-cü il"),
            ((2026, 12, 2), "2 декабря 2026 г.", "2 dekabr 2026-cı il"),
            ((2029, 1, 1), "1 января 2029 г.", "1 yanvar 2029-cu il"),
            (
                (2030, 9, 30),
                "30 сентября 2030 г.",
                "30 sentyabr 2030-cu il",
            ),
            ((2040, 3, 8), "8 марта 2040 г.", "8 mart 2040-cı il"),
            ((2100, 6, 15), "15 июня 2100 г.", "15 iyun 2100-cü il"),
            ((2000, 7, 20), "20 июля 2000 г.", "20 iyul 2000-ci il"),
        ];
        for ((y, m, d), ru, az) in local {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                (long_date_ru(date), long_date_az(date)),
                (ru.into(), az.into())
            );
        }
    }
}
