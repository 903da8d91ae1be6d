//! The JSON shapes a request arrives in, read in one pass without building a JSON tree.
//!
//! Fields are read as [`Scalar`]s, which accept any JSON value and remember its kind, so
//! that leniency and errors are decided in [`snapshot`](crate::snapshot) with the JSON
//! path at hand, not by the parser. [`Obj`] and [`Arr`] accept any value too and only
//! note when it was not the object or array expected. Strings are borrowed from the input
//! where JSON escapes allow it: a 100k-row request allocates little besides the answer.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Any JSON value; arrays and objects are skipped and only their kind kept.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(Cow<'a, str>),
    Array,
    Object,
}

impl Scalar<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON; `None` for an array or object, whose content was not kept.
    pub(crate) fn to_value(&self) -> Option<serde_json::Value> {
        use serde_json::Value;
        match self {
            Scalar::Null => Some(Value::Null),
            Scalar::Bool(b) => Some(Value::Bool(*b)),
            Scalar::Number(n) => Some(Value::Number(n.clone())),
            Scalar::Str(s) => Some(Value::String(s.to_string())),
            Scalar::Array | Scalar::Object => None,
        }
    }

    /// "a string", "an array", ...: for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "a boolean",
            Scalar::Number(_) => "a number",
            Scalar::Str(_) => "a string",
            Scalar::Array => "an array",
            Scalar::Object => "an object",
        }
    }
}

/// The value as JSON (strings quoted), arrays and objects elided: for messages.
impl fmt::Display for Scalar<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Number(n) => write!(f, "{n}"),
            Scalar::Str(s) => write!(f, "{}", serde_json::Value::String(s.to_string())),
            Scalar::Array => f.write_str("[...]"),
            Scalar::Object => f.write_str("{...}"),
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar<'de>, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Scalar::Null, Scalar::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// An object read as `T`, or the kind of whatever stood there instead.
#[derive(Debug)]
pub(crate) enum Obj<T> {
    Is(T),
    Not(&'static str),
}

/// An array of `T`, or the kind of whatever stood there instead.
#[derive(Debug)]
pub(crate) enum Arr<T> {
    Is(Vec<T>),
    Not(&'static str),
}

struct ObjVisitor<T>(PhantomData<T>);
struct ArrVisitor<T>(PhantomData<T>);

/// Implements the visits of a non-matching JSON kind as `Not(kind)`.
macro_rules! other_kinds {
    ($($name:ident($($arg:ty)?) => $kind:expr),* $(,)?) => {
        $(fn $name<E>(self $(, _: $arg)?) -> Result<Self::Value, E> {
            Ok(Self::Value::Not($kind))
        })*
    };
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Obj::Is)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Obj<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Obj::Not("an array"))
    }
    other_kinds! {
        visit_unit() => "null", visit_none() => "null", visit_bool(bool) => "a boolean",
        visit_u64(u64) => "a number", visit_i64(i64) => "a number", visit_f64(f64) => "a number",
        visit_str(&str) => "a string",
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ArrVisitor<T> {
    type Value = Arr<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Arr<T>, A::Error> {
        Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(Arr::Is)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arr<T>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Arr::Not("an object"))
    }
    other_kinds! {
        visit_unit() => "null", visit_none() => "null", visit_bool(bool) => "a boolean",
        visit_u64(u64) => "a number", visit_i64(i64) => "a number", visit_f64(f64) => "a number",
        visit_str(&str) => "a string",
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjVisitor(PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Arr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ArrVisitor(PhantomData))
    }
}
