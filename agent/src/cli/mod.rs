//! The command-line side of `tabnas-agent`: flags, embedded defaults and output.

pub mod defaults;
pub mod device;
pub mod progress;
pub mod serve;
pub mod signals;

/// A clap parser for a core kind (reward, P(V) mode) by its names, without a mirror
/// enum: clap lists `names` in the help and rejects others before `FromStr` runs.
pub fn kind_parser<T>(
    names: &'static [&'static str],
) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names).try_map(|s| s.parse::<T>())
}
