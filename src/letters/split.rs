//! A letter template cut into the runs that are the same in every letter of a statement and the
//! runs that depend on the organisation, so that the fixed runs (the statement's paragraphs,
//! escaped, are most of a letter) are rendered once per statement and language instead of once
//! per letter.
//!
//! The cut works on the parsed template's top-level elements. Whitespace control (`{{~ ~}}`) and
//! standalone lines are applied by the parser to the raw text around the tags, so the elements
//! already carry their final text and concatenating the runs' outputs gives exactly the output of
//! the whole template.
//!
//! An element is *fixed* when nothing inside it (names, parameters, hash values,
//! subexpressions, block bodies and inverses, recursively) can read the organisation: outside a
//! block that changes the context, every path must start with `statement`, `sender` or
//! `addressees`; `@root`, `../`, `@partial-block` and other `@` variables than
//! `@index`/`@key`/`@first`/`@last` are refused everywhere; a helper must be one known to be pure.
//! Partials are never fixed (they may read anything), and a template with a decorator or a
//! partial block anywhere (which change what later elements see) is not cut at all. A wrong
//! "fixed" would still not go unnoticed: fixed runs are rendered with a context that has no
//! `organization` at all, so in strict mode a run that reads it fails, and the letter is then
//! rendered whole.

use std::ops::Range;

use handlebars::template::{HelperTemplate, Parameter, TemplateElement};
use handlebars::{
    Context, Handlebars, Output, Path, RenderContext, RenderError, Renderable, Template,
};

/// The built-in helpers that only compute from their parameters, plus herald's `long_date`.
/// (`log` writes to the log, so it is not here: it must run for every letter.)
const PURE_HELPERS: [&str; 17] = [
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "raw",
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "and",
    "or",
    "not",
    "len",
    "long_date",
];

/// Every helper a herald registry has that is not pure.
const IMPURE_HELPERS: [&str; 1] = ["log"];

/// Helpers that render their body with another context (their parameter).
const SCOPING_HELPERS: [&str; 2] = ["each", "with"];

/// The top-level context keys that are the same in every letter of a statement.
const FIXED_KEYS: [&str; 3] = ["statement", "sender", "addressees"];

/// The `@` variables a block helper sets from its own parameter.
const FIXED_LOCALS: [&str; 4] = ["index", "key", "first", "last"];

/// One template's top-level elements cut into runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    /// The template with its plain partials written out in place (see [`inlinable`]).
    template: Template,
    runs: Vec<Run>,
    fixed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    /// Elements rendered once per statement; the index of their output.
    Fixed(usize, Range<usize>),
    /// Elements rendered for every letter.
    PerLetter(Range<usize>),
}

/// Where relative paths are looked up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In the letter's context itself, whose `organization` varies.
    Root,
    /// Inside a block whose context is a fixed value (only fixed elements get there).
    Inner,
}

impl Split {
    /// The runs of `template`, whose partials are in `registry`, or `None` when it cannot be
    /// cut or cutting would save nothing (no fixed run holds more than text).
    ///
    /// A plain partial (see [`inlinable`]) is first replaced by its elements: Handlebars copies
    /// the whole context for every partial it renders, the better part of a letter's cost once
    /// the paragraphs are rendered once, and its fixed parts can join the fixed runs around it.
    /// The replacement renders the same text but would word errors differently (lines of the
    /// partial, named after the letter template), so [`Split::render`]'s errors are only a sign
    /// to render the whole template again for its error.
    pub(crate) fn new(template: &Template, registry: &Handlebars<'_>) -> Option<Split> {
        if template.elements.iter().any(changes_later_elements)
            || template.elements.len() != template.mapping.len()
        {
            return None;
        }
        let mut expanded = Template::new();
        expanded.name.clone_from(&template.name);
        for (element, mapping) in template.elements.iter().zip(&template.mapping) {
            match inlinable(element, registry) {
                Some(partial) => {
                    expanded.elements.extend(partial.elements.iter().cloned());
                    expanded.mapping.extend(partial.mapping.iter().cloned());
                }
                None => {
                    expanded.elements.push(element.clone());
                    expanded.mapping.push(mapping.clone());
                }
            }
        }
        let template = expanded;
        let mut runs: Vec<Run> = Vec::new();
        let mut fixed = 0;
        let mut worth = false;
        for (i, element) in template.elements.iter().enumerate() {
            let is_fixed = element_is_fixed(element, Scope::Root);
            worth |= is_fixed && !matches!(element, TemplateElement::RawString(_));
            match (runs.last_mut(), is_fixed) {
                (Some(Run::Fixed(_, range)), true) | (Some(Run::PerLetter(range)), false) => {
                    range.end = i + 1;
                }
                (_, true) => {
                    runs.push(Run::Fixed(fixed, i..i + 1));
                    fixed += 1;
                }
                (_, false) => runs.push(Run::PerLetter(i..i + 1)),
            }
        }
        worth.then_some(Split {
            template,
            runs,
            fixed,
        })
    }

    /// Renders the fixed runs with `shared`, a context without the organisation. Each run starts
    /// in a fresh render context: at the top level of a template nothing is indented, so a run's
    /// output does not depend on what was written before it.
    pub(crate) fn render_fixed(
        &self,
        registry: &Handlebars<'_>,
        shared: &Context,
    ) -> Result<Vec<String>, RenderError> {
        let template = &self.template;
        let mut outputs = Vec::with_capacity(self.fixed);
        for run in &self.runs {
            if let Run::Fixed(_, range) = run {
                let mut out = Buffer(String::new());
                let mut rc = RenderContext::new(template.name.as_ref());
                rc.set_current_template_name(template.name.as_ref());
                render_elements(registry, template, range.clone(), shared, &mut rc, &mut out)?;
                outputs.push(out.0);
            }
        }
        Ok(outputs)
    }

    /// Renders the whole template for one letter: the per-letter runs with `data`, the fixed
    /// runs from `fixed` (what [`Split::render_fixed`] returned for the same statement). Tells
    /// `placed` where each fixed run went: its index and its offset in the output.
    pub(crate) fn render(
        &self,
        registry: &Handlebars<'_>,
        fixed: &[String],
        data: &Context,
        placed: &mut dyn FnMut(usize, usize),
    ) -> Result<String, RenderError> {
        let template = &self.template;
        let capacity = fixed.iter().map(String::len).sum::<usize>() + 1024;
        let mut out = Buffer(String::with_capacity(capacity));
        let mut rc = RenderContext::new(template.name.as_ref());
        rc.set_current_template_name(template.name.as_ref());
        for run in &self.runs {
            match run {
                Run::Fixed(i, _) => {
                    let text = fixed.get(*i).map(String::as_str).unwrap_or_default();
                    placed(*i, out.0.len());
                    write_as_handlebars(text, &mut rc, &mut out);
                }
                Run::PerLetter(range) => {
                    render_elements(registry, template, range.clone(), data, &mut rc, &mut out)?
                }
            }
        }
        Ok(out.0)
    }
}

impl Split {
    /// The elements rendered for every letter.
    pub(crate) fn per_letter(&self) -> impl Iterator<Item = &TemplateElement> + '_ {
        self.runs
            .iter()
            .filter_map(|run| match run {
                Run::PerLetter(range) => self.template.elements.get(range.clone()),
                Run::Fixed(..) => None,
            })
            .flatten()
    }
}

/// Whether rendering `element` may read the statement's paragraphs, so that they must be in the
/// letter's context: most of the context, which Handlebars copies again for every partial it
/// renders. Conservative: any path or string that names `paragraphs`, and any path that may
/// denote the statement or the whole context (`statement`, `this`, `@root`, `../`, `lookup`'s
/// target…), which a helper could look into; a partial given by a subexpression, or named like
/// a letter template, could be anything.
pub(crate) fn may_read_paragraphs(element: &TemplateElement, letter_templates: &[&str]) -> bool {
    use TemplateElement::*;
    let body = |t: &Option<Template>| {
        t.iter()
            .flat_map(|t| t.elements.iter())
            .any(|e| may_read_paragraphs(e, letter_templates))
    };
    match element {
        RawString(_) | Comment(_) => false,
        Expression(ht) | HtmlExpression(ht) | HelperBlock(ht) => {
            param_may_read_paragraphs(&ht.name, letter_templates)
                || ht
                    .params
                    .iter()
                    .chain(ht.hash.values())
                    .any(|p| param_may_read_paragraphs(p, letter_templates))
                || body(&ht.template)
                || body(&ht.inverse)
        }
        DecoratorExpression(dt) | DecoratorBlock(dt) | PartialExpression(dt) | PartialBlock(dt) => {
            let name_unsafe = match &dt.name {
                Parameter::Name(name) => letter_templates.contains(&name.as_str()),
                Parameter::Path(Path::Relative((_, raw))) => {
                    letter_templates.contains(&raw.as_str()) || path_may_read_paragraphs(raw)
                }
                _ => true,
            };
            name_unsafe
                || dt
                    .params
                    .iter()
                    .chain(dt.hash.values())
                    .any(|p| param_may_read_paragraphs(p, letter_templates))
                || body(&dt.template)
        }
        _ => true,
    }
}

fn param_may_read_paragraphs(param: &Parameter, letter_templates: &[&str]) -> bool {
    match param {
        Parameter::Name(name) => path_may_read_paragraphs(name),
        Parameter::Path(Path::Relative((_, raw))) => path_may_read_paragraphs(raw),
        Parameter::Path(path @ Path::Local(_)) => !local_is_fixed(path),
        Parameter::Literal(value) => value.to_string().contains("paragraphs"),
        Parameter::Subexpression(sub) => may_read_paragraphs(&sub.element, letter_templates),
        _ => true,
    }
}

fn path_may_read_paragraphs(raw: &str) -> bool {
    let last = raw
        .rsplit(['.', '/', '['])
        .next()
        .unwrap_or_default()
        .trim_end_matches(']');
    raw.contains("paragraphs")
        || raw.contains("..")
        || raw.starts_with('@') && !raw.contains('.')
        || ["", "statement", "this", "@root"].contains(&last)
}

/// What `Template::render` does for a slice of its elements: render each in turn, and give an
/// error the element's line and the template's name when it has none yet.
fn render_elements<'reg: 'rc, 'rc>(
    registry: &'reg Handlebars<'reg>,
    template: &'rc Template,
    range: Range<usize>,
    data: &'rc Context,
    rc: &mut RenderContext<'reg, 'rc>,
    out: &mut Buffer,
) -> Result<(), RenderError> {
    for idx in range {
        let Some(element) = template.elements.get(idx) else {
            continue;
        };
        element.render(registry, data, rc, out).map_err(|mut e| {
            if e.line_no.is_none() {
                if let Some(mapping) = template.mapping.get(idx) {
                    e.line_no = Some(mapping.0);
                    e.column_no = Some(mapping.1);
                }
            }
            if e.template_name.is_none() {
                e.template_name.clone_from(&template.name);
            }
            e
        })?;
    }
    Ok(())
}

/// Writes a fixed run's output and leaves the render context as Handlebars would have left it
/// after writing that text at the top level (no indentation): what follows (an indented partial)
/// looks at whether the output so far ends a line.
fn write_as_handlebars(text: &str, rc: &mut RenderContext<'_, '_>, out: &mut Buffer) {
    if text.is_empty() {
        return;
    }
    out.0.push_str(text);
    let ends_line = text.ends_with(['\n', '\r']);
    rc.set_content_produced(true);
    rc.set_trailing_newline(ends_line);
    rc.set_indent_before_write(ends_line);
}

/// Rendered text collected in a `String` (Handlebars' `StringOutput` collects bytes and checks
/// them again at the end).
struct Buffer(String);

impl Output for Buffer {
    fn write(&mut self, seg: &str) -> std::io::Result<()> {
        self.0.push_str(seg);
        Ok(())
    }
}

/// The partial that `element` includes, when it can be written out in place of the element with
/// the same output: `{{> name}}` with no parameter, hash, block or indentation (a partial alone
/// on an indented line is indented line by line), naming a registered partial that itself has
/// no partial, decorator, `@partial-block` or `../` (a partial renders in a block of its own,
/// so `../` inside means something else in place). At the top level of a template nothing is
/// indented, so the render context's bookkeeping around a partial changes nothing written.
fn inlinable<'r>(element: &TemplateElement, registry: &'r Handlebars<'_>) -> Option<&'r Template> {
    let TemplateElement::PartialExpression(dt) = element else {
        return None;
    };
    if !dt.params.is_empty() || !dt.hash.is_empty() || dt.template.is_some() || dt.indent.is_some()
    {
        return None;
    }
    let name = match &dt.name {
        Parameter::Name(name) => name,
        Parameter::Path(Path::Relative((_, raw))) => raw,
        _ => return None,
    };
    // The letter templates (`letter.txt.hbs`) have dots; `@partial-block` is no template.
    if name.contains(['.', '@']) {
        return None;
    }
    let partial = registry.get_template(name)?;
    let plain = partial.elements.len() == partial.mapping.len()
        && partial.elements.iter().all(|e| {
            visit(e, &mut |seen| match seen {
                Seen::Element(e) => !matches!(
                    e,
                    TemplateElement::PartialExpression(_)
                        | TemplateElement::PartialBlock(_)
                        | TemplateElement::DecoratorExpression(_)
                        | TemplateElement::DecoratorBlock(_)
                ),
                Seen::Name(name) => !name.contains("..") && !name.contains("partial-block"),
            })
        });
    plain.then_some(partial)
}

/// What [`visit`] shows.
enum Seen<'a> {
    Element(&'a TemplateElement),
    /// A helper, partial or decorator name, or a path, as written.
    Name(&'a str),
}

/// Shows `f` the element and everything inside it (names, parameters, hash values,
/// subexpressions, bodies, inverses); whether `f` accepted all. Anything of a later Handlebars
/// it does not know is refused.
fn visit(element: &TemplateElement, f: &mut dyn FnMut(Seen<'_>) -> bool) -> bool {
    use TemplateElement::*;
    if !f(Seen::Element(element)) {
        return false;
    }
    let (name, params, hash, bodies): (_, _, _, [Option<&Template>; 2]) = match element {
        RawString(_) | Comment(_) => return true,
        Expression(ht) | HtmlExpression(ht) | HelperBlock(ht) => (
            &ht.name,
            &ht.params,
            &ht.hash,
            [ht.template.as_ref(), ht.inverse.as_ref()],
        ),
        DecoratorExpression(dt) | DecoratorBlock(dt) | PartialExpression(dt) | PartialBlock(dt) => {
            (&dt.name, &dt.params, &dt.hash, [dt.template.as_ref(), None])
        }
        _ => return false,
    };
    std::iter::once(name)
        .chain(params)
        .chain(hash.values())
        .all(|p| visit_param(p, f))
        && bodies
            .iter()
            .flatten()
            .flat_map(|t| t.elements.iter())
            .all(|e| visit(e, f))
}

fn visit_param(param: &Parameter, f: &mut dyn FnMut(Seen<'_>) -> bool) -> bool {
    match param {
        Parameter::Name(name) => f(Seen::Name(name)),
        Parameter::Path(Path::Relative((_, raw))) | Parameter::Path(Path::Local((_, _, raw))) => {
            f(Seen::Name(raw))
        }
        Parameter::Literal(_) => true,
        Parameter::Subexpression(sub) => visit(&sub.element, f),
        _ => false,
    }
}

/// Decorators and partial blocks (`{{#> layout}}`, `{{#*inline}}`) change what later elements
/// see: a template that has one anywhere is rendered whole.
fn changes_later_elements(element: &TemplateElement) -> bool {
    use TemplateElement::*;
    match element {
        DecoratorExpression(_) | DecoratorBlock(_) | PartialBlock(_) => true,
        HelperBlock(ht) | Expression(ht) | HtmlExpression(ht) => ht
            .template
            .iter()
            .chain(ht.inverse.iter())
            .flat_map(|t| t.elements.iter())
            .any(changes_later_elements),
        RawString(_) | Comment(_) | PartialExpression(_) => false,
        // An element kind of a later Handlebars: not understood, so not cut.
        _ => true,
    }
}

fn element_is_fixed(element: &TemplateElement, scope: Scope) -> bool {
    use TemplateElement::*;
    match element {
        RawString(_) | Comment(_) => true,
        Expression(ht) | HtmlExpression(ht) | HelperBlock(ht) => helper_is_fixed(ht, scope),
        _ => false,
    }
}

fn helper_is_fixed(ht: &HelperTemplate, scope: Scope) -> bool {
    let name = match &ht.name {
        Parameter::Name(name) => name.as_str(),
        Parameter::Path(Path::Relative((_, raw))) => raw.as_str(),
        // `{{@index}}` and the like: a value, not a helper.
        Parameter::Path(path @ Path::Local(_)) => {
            return !ht.block && ht.params.is_empty() && ht.hash.is_empty() && local_is_fixed(path);
        }
        _ => return false,
    };
    let pure = PURE_HELPERS.contains(&name);
    let name_only = !ht.block && ht.params.is_empty() && ht.hash.is_empty();
    if name_only {
        // A value lookup unless a helper has that name.
        if !pure && (IMPURE_HELPERS.contains(&name) || !path_is_fixed(name, scope)) {
            return false;
        }
    } else if !pure {
        return false;
    }
    let body_scope = if SCOPING_HELPERS.contains(&name) {
        Scope::Inner
    } else {
        scope
    };
    ht.params.iter().all(|p| param_is_fixed(p, scope))
        && ht.hash.values().all(|p| param_is_fixed(p, scope))
        && ht
            .template
            .iter()
            .flat_map(|t| t.elements.iter())
            .all(|e| element_is_fixed(e, body_scope))
        // `{{else}}` of `each` and `with` renders in the outer context.
        && ht
            .inverse
            .iter()
            .flat_map(|t| t.elements.iter())
            .all(|e| element_is_fixed(e, scope))
}

fn param_is_fixed(param: &Parameter, scope: Scope) -> bool {
    match param {
        Parameter::Literal(_) => true,
        Parameter::Name(name) => path_is_fixed(name, scope),
        Parameter::Path(Path::Relative((_, raw))) => path_is_fixed(raw, scope),
        Parameter::Path(path @ Path::Local(_)) => local_is_fixed(path),
        Parameter::Subexpression(sub) => element_is_fixed(&sub.element, scope),
        _ => false,
    }
}

/// A relative path as written (`statement.title`, `this`, `../organization.name`).
fn path_is_fixed(raw: &str, scope: Scope) -> bool {
    if raw.contains("..") || raw.contains('@') {
        return false;
    }
    match scope {
        Scope::Inner => true,
        Scope::Root => {
            let first = raw.split(['.', '/', '[']).next().unwrap_or_default();
            FIXED_KEYS.contains(&first)
        }
    }
}

/// `@index` and its kin of the innermost block; not `../@index`, not `@root`.
fn local_is_fixed(path: &Path) -> bool {
    matches!(path, Path::Local((0, name, _)) if FIXED_LOCALS.contains(&name.as_str()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    impl Split {
        pub(crate) fn has_partials(&self) -> bool {
            self.template
                .elements
                .iter()
                .any(|e| matches!(e, TemplateElement::PartialExpression(_)))
        }
    }

    fn runs(source: &str) -> Option<Vec<(bool, Range<usize>)>> {
        let template = Template::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        Split::new(&template, &Handlebars::new()).map(|split| {
            split
                .runs
                .into_iter()
                .map(|run| match run {
                    Run::Fixed(_, range) => (true, range),
                    Run::PerLetter(range) => (false, range),
                })
                .collect()
        })
    }

    /// Whether the template's one tag (between two texts) is fixed.
    fn fixed(tag: &str) -> bool {
        match runs(&format!("a{tag}b")) {
            None => false,
            Some(runs) => runs == vec![(true, 0..3)],
        }
    }

    #[test]
    fn what_is_fixed() {
        let cases = [
            ("{{statement.title}}", true),
            ("{{{statement.title}}}", true),
            ("{{sender.email}}", true),
            ("{{addressees.[0]}}", true),
            ("{{statement/title}}", true),
            ("{{organization.name}}", false),
            ("{{organization}}", false),
            ("{{this}}", false),
            ("{{./statement}}", false),
            ("{{this.statement.title}}", false),
            ("{{@root.statement.title}}", false),
            ("{{@root.organization.id}}", false),
            (
                "{{#each statement.paragraphs}}<p>{{this}}</p>{{/each}}",
                true,
            ),
            (
                "{{#each statement.paragraphs}}{{@index}}{{@first}}{{/each}}",
                true,
            ),
            (
                "{{#each statement.paragraphs}}{{../organization.name}}{{/each}}",
                false,
            ),
            (
                "{{#each statement.paragraphs}}{{../statement.title}}{{/each}}",
                false,
            ),
            (
                "{{#each statement.paragraphs}}{{@root.statement.id}}{{/each}}",
                false,
            ),
            (
                "{{#each statement.paragraphs}}{{@../index}}{{/each}}",
                false,
            ),
            (
                "{{#each statement.paragraphs}}x{{else}}{{organization.id}}{{/each}}",
                false,
            ),
            (
                "{{#each statement.paragraphs}}x{{else}}{{statement.id}}{{/each}}",
                true,
            ),
            ("{{#with organization}}{{name}}{{/with}}", false),
            ("{{#with statement}}{{title}}{{/with}}", true),
            ("{{#if organization.contact}}x{{/if}}", false),
            (
                "{{#if statement.date}}x{{else}}{{organization.id}}{{/if}}",
                false,
            ),
            (
                "{{#if statement.date}}x{{else if organization.id}}y{{/if}}",
                false,
            ),
            (
                "{{#if statement.date}}x{{else if sender.name}}y{{/if}}",
                true,
            ),
            ("{{#if statement.signatory}}{{title}}{{/if}}", false),
            ("{{#if (eq statement.id \"x\")}}y{{/if}}", true),
            ("{{#if (eq organization.salutation \"x\")}}y{{/if}}", false),
            ("{{long_date statement.date}}", true),
            ("{{long_date organization.id}}", false),
            ("{{lookup statement \"title\"}}", true),
            ("{{lookup this \"organization\"}}", false),
            ("{{log statement.title}}", false),
            ("{{unknown statement.title}}", false),
            ("{{> closing}}", false),
            ("{{!-- a comment --}}", true),
        ];
        for (tag, expected) in cases {
            assert_eq!(fixed(tag), expected, "{tag}");
        }
    }

    #[test]
    fn runs_follow_the_elements() {
        assert_eq!(
            runs("A {{statement.title}} B {{organization.name}} C {{sender.name}}"),
            Some(vec![(true, 0..3), (false, 3..4), (true, 4..6)])
        );
        // Nothing but text in the fixed runs: nothing to gain.
        assert_eq!(runs("A {{organization.name}} B"), None);
        assert_eq!(runs("plain"), None);
    }

    #[test]
    fn what_may_read_the_paragraphs() {
        let cases = [
            (
                "{{organization.name}} {{statement.title}} {{long_date statement.date}}",
                false,
            ),
            (
                "{{#if organization.contact}}{{organization.contact}}{{/if}}",
                false,
            ),
            ("{{#each addressees}}{{@index}}{{/each}}", false),
            ("{{> salutation}} {{> p organization}}", false),
            ("{{#each statement.paragraphs}}{{/each}}", true),
            ("{{statement.[paragraphs]}}", true),
            ("{{#with statement}}{{title}}{{/with}}", true),
            ("{{#each statement}}{{/each}}", true),
            ("{{lookup statement \"title\"}}", true),
            ("{{lookup @root.statement organization.id}}", true),
            ("{{len (lookup statement.title \"paragraphs\")}}", true),
            ("{{#each addressees}}{{../statement.title}}{{/each}}", true),
            ("{{#each addressees}}{{this}}{{/each}}", true),
            ("{{> p statement}}", true),
            ("{{> p this}}", true),
            ("{{> (lookup organization \"x\")}}", true),
            ("{{> letter.txt.hbs}}", true),
            (
                "{{#*inline \"p\"}}{{statement.paragraphs}}{{/inline}}",
                true,
            ),
            ("{{@root}}", true),
        ];
        for (source, expected) in cases {
            let template = Template::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            let reads = template
                .elements
                .iter()
                .any(|e| may_read_paragraphs(e, &["letter.txt.hbs"]));
            assert_eq!(reads, expected, "{source}");
        }
    }

    #[test]
    fn plain_partials_are_written_out_in_place() {
        let mut registry = Handlebars::new();
        for (name, source) in [
            ("plain", "Dear {{organization.name}},"),
            (
                "parent",
                "{{#with organization}}{{../statement.title}}{{/with}}",
            ),
            ("nested", "{{> plain}}"),
            ("block", "{{> @partial-block}}"),
        ] {
            registry.register_template_string(name, source).unwrap();
        }
        let cases = [
            ("{{statement.title}}\n{{> plain}}\n", true),
            ("{{statement.title}}\n{{> plain organization}}", false),
            ("{{statement.title}}\n{{> plain a=1}}", false),
            ("{{statement.title}}\n  {{> plain}}\n", false),
            ("{{statement.title}}\n{{> parent}}", false),
            ("{{statement.title}}\n{{> nested}}", false),
            ("{{statement.title}}\n{{> block}}", false),
            ("{{statement.title}}\n{{> absent}}", false),
        ];
        for (source, inlined) in cases {
            let template = Template::compile(source).unwrap();
            let split = Split::new(&template, &registry).unwrap();
            assert_eq!(!split.has_partials(), inlined, "{source}");
        }
    }

    #[test]
    fn decorators_and_partial_blocks_leave_the_template_whole() {
        for source in [
            "{{#*inline \"p\"}}x{{/inline}}{{statement.title}}{{> p}}",
            "{{statement.title}}{{#> layout}}x{{/layout}}",
            "{{statement.title}}{{#if statement.id}}{{#> layout}}x{{/layout}}{{/if}}",
            "{{* decorator}}{{statement.title}}",
        ] {
            assert_eq!(runs(source), None, "{source}");
        }
    }
}
