//! Plan files kept in S3 (`iamctl report s3://BUCKET/PREFIX/`): every `*.json` object under
//! the prefix, listed and read with the identity iamctl starts from, each call through
//! `aws::call` with its permission (`permissions::S3_READ`).

use aws_sdk_s3::Client;

use crate::aws::{AwsError, call};
use crate::permissions::{GET_OBJECT, LIST_BUCKET};

/// `s3://BUCKET/PREFIX`: where a history of plan files is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Prefix {
    pub bucket: String,
    pub prefix: String,
}

impl S3Prefix {
    /// Parses `s3://BUCKET[/PREFIX]`; `None` when `text` is no S3 URL.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Prefix {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// Why S3 plan files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("{url}: reading the object's body: {message}")]
    Body { url: String, message: String },
}

/// Every `*.json` object under the prefix, by key: `(s3://BUCKET/KEY, bytes)`.
pub async fn read_plans(client: &Client, at: &S3Prefix) -> Result<Vec<(String, Vec<u8>)>, S3Error> {
    read_objects(client, at, ".json", Depth::Below).await
}

/// Which objects under a prefix [`read_objects`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Every object whose key starts with the prefix, in "subfolders" too.
    Below,
    /// Only the objects directly in the prefix's "folder" (listed with the delimiter `/`).
    DirectlyIn,
}

/// The objects under `at` whose keys end in `suffix`, in key order: `(s3://BUCKET/KEY,
/// bytes)`. One paginated `ListObjectsV2`, then one `GetObject` per object, each through
/// `aws::call` (the plan files of `iamctl report`, the Lambda handler's desired state).
pub async fn read_objects(
    client: &Client,
    at: &S3Prefix,
    suffix: &str,
    depth: Depth,
) -> Result<Vec<(String, Vec<u8>)>, S3Error> {
    let account = format!("s3://{}", at.bucket);
    let mut keys = Vec::new();
    let listing = client
        .list_objects_v2()
        .bucket(&at.bucket)
        .prefix(&at.prefix);
    let listing = match depth {
        Depth::Below => listing,
        Depth::DirectlyIn => listing.delimiter("/"),
    };
    let mut pages = listing.into_paginator().send();
    while let Some(page) = call(&account, LIST_BUCKET, pages.try_next()).await? {
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key())
                .filter(|key| key.ends_with(suffix))
                .map(str::to_owned),
        );
    }
    keys.sort();
    let mut files = Vec::with_capacity(keys.len());
    for key in keys {
        let object = call(
            &account,
            GET_OBJECT,
            client.get_object().bucket(&at.bucket).key(&key).send(),
        )
        .await?;
        let url = at.url(&key);
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| S3Error::Body {
                url: url.clone(),
                message: e.to_string(),
            })?
            .into_bytes()
            .to_vec();
        files.push((url, bytes));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_name_a_bucket_and_a_prefix() {
        assert_eq!(
            S3Prefix::parse("s3://plans/iamctl/history/"),
            Some(S3Prefix {
                bucket: "plans".into(),
                prefix: "iamctl/history/".into()
            })
        );
        assert_eq!(
            S3Prefix::parse("s3://plans"),
            Some(S3Prefix {
                bucket: "plans".into(),
                prefix: String::new()
            })
        );
        assert_eq!(S3Prefix::parse("s3://"), None);
        assert_eq!(S3Prefix::parse("plans/2026.json"), None);
    }
}
