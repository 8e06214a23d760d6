//! Names of the library's small enums (dataset presets, label kinds, resources, sweep
//! axes) as flags, manifests and reports write them: one table per enum gives its
//! `ALL`, `NAMES`, `name()`, `Display` and `FromStr`, the way the core names
//! `RewardKind` and `PvKind`. A name that is not accepted is the core's
//! [`UnknownName`](tabnas_core::reward::UnknownName).

/// Implements `ALL`, `NAMES`, `name`, `Display` and `FromStr` for a fieldless enum from
/// a table `Variant => "name"`.
macro_rules! impl_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order of `NAMES`.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// Their names.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name of this value.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = ::tabnas_core::reward::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::tabnas_core::reward::UnknownName::position(s, Self::NAMES).map(|i| Self::ALL[i])
            }
        }
    };
}

pub(crate) use impl_names;
