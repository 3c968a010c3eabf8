package rules

import "strings"

// S3 rules beyond public access block / encryption / TLS (storage.go):
// policies and ACLs that open a bucket, ownership, cross-account grants,
// account and access-point public access blocks, logging and lifecycle.

const (
	TypeS3BucketACLV2        = "aws:s3/bucketAclV2:BucketAclV2"
	TypeS3Ownership          = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	TypeS3LoggingV2          = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	TypeS3LifecycleV2        = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	TypeS3AccountPAB         = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
	TypeS3AccessPoint        = "aws:s3/accessPoint:AccessPoint"
	TypeS3MultiRegionAP      = "aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint"
	TypeS3BucketObjectV2     = "aws:s3/bucketObjectv2:BucketObjectv2"
	s3PublicAccessBlockNames = "blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets"
)

var publicACLs = []string{"public-read", "public-read-write", "authenticated-read"}

// s3SensitiveActions are the bucket-policy actions S3.6 forbids granting to
// other accounts.
var s3SensitiveActions = []string{"*", "s3:*", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:PutEncryptionConfiguration", "s3:PutObjectAcl"}

func init() {
	register(
		Rule{
			Name: "s3-bucket-policy-not-public", Description: "Bucket policies do not allow any principal without a restricting condition.",
			Control: "S3.2 / S3.3 / Checkov CKV_AWS_70", Controls: []string{"S3.2", "S3.3", "CKV_AWS_70"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set the bucket policy's Principal to the accounts/roles/services that need access, or add aws:SourceArn / aws:SourceVpce / aws:PrincipalOrgID conditions",
			Types:       []string{TypeS3BucketPolicy, TypeS3Bucket, TypeS3BucketV2},
			Check:       publicPolicyCheck("serve public content through CloudFront with origin access control instead, or name the principals", "policy"),
		},
		Rule{
			Name: "s3-no-public-acl", Description: "Buckets and objects are not given public canned ACLs or grants to AllUsers / AuthenticatedUsers.",
			Control: "S3.2 / S3.3 / S3.12", Controls: []string{"S3.2", "S3.3", "S3.12"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set acl: \"private\" (better: remove the ACL and keep objectOwnership BucketOwnerEnforced)",
			Types:       []string{TypeS3BucketACLV2, TypeS3Bucket, TypeS3BucketV2, TypeS3BucketObjectV2},
			Check:       checkS3ACL,
		},
		Rule{
			Name: "s3-ownership-enforced", Description: "Bucket ownership controls keep ACLs disabled (BucketOwnerEnforced).",
			Control: "S3.12", Controls: []string{"S3.12"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set rule.objectOwnership: \"BucketOwnerEnforced\"",
			Types:       []string{TypeS3Ownership},
			Check: func(r Resource) []Violation {
				return wantString(r, "", []string{"BucketOwnerEnforced"}, "set rule.objectOwnership: \"BucketOwnerEnforced\" and grant access with policies", "rule", "objectOwnership")
			},
		},
		Rule{
			Name: "s3-no-cross-account-admin", Description: "Bucket policies do not let other principals change the bucket's policy, ACLs or encryption.",
			Control: "S3.6", Controls: []string{"S3.6"}, Severity: High, DefaultLevel: Mandatory,
			Remediation: "remove s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration, s3:PutObjectAcl (and s3:* / *) from Allow statements for AWS principals",
			Types:       []string{TypeS3BucketPolicy},
			Check: func(r Resource) []Violation {
				stmts, unknown, err := ParsePolicy(Get(r.Props, "policy"))
				if unknown {
					return []Violation{cannotTell("policy")}
				}
				if err != nil {
					return nil
				}
				var out []Violation
				for i, st := range stmts {
					if !st.IsAllow() || len(st.Principals["AWS"]) == 0 {
						continue
					}
					for _, a := range st.Actions {
						if containsFold(s3SensitiveActions, strings.TrimSpace(a)) {
							out = append(out, fail("%s allows %s to AWS principals %s; grant administration through IAM policies in the owning account", stmtName("policy", Statement{Sid: st.Sid}), a, strings.Join(st.Principals["AWS"], ", ")))
							break
						}
					}
					_ = i
				}
				return out
			},
		},
		Rule{
			Name: "s3-account-public-access-block", Description: "The account-level S3 public access block has all four settings true.",
			Control: "S3.1", Controls: []string{"S3.1"}, Severity: Medium, DefaultLevel: Mandatory,
			Remediation: "set " + s3PublicAccessBlockNames + " to true",
			Types:       []string{TypeS3AccountPAB},
			Check:       allTrue(false, "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
		},
		Rule{
			Name: "s3-access-point-block-public", Description: "S3 access points and Multi-Region Access Points keep their public access block settings on.",
			Control: "S3.19 / S3.24", Controls: []string{"S3.19", "S3.24"}, Severity: Critical, DefaultLevel: Mandatory,
			Remediation: "set publicAccessBlockConfiguration's four settings to true (or omit them: true)",
			Types:       []string{TypeS3AccessPoint, TypeS3MultiRegionAP},
			Check: func(r Resource) []Violation {
				path := []any{"publicAccessBlockConfiguration"}
				if r.Type == TypeS3MultiRegionAP {
					path = []any{"details", "publicAccessBlock"}
				}
				var out []Violation
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					out = append(out, wantBool(r, true, true, "set it to true", append(append([]any{}, path...), k)...)...)
				}
				return out
			},
		},
		Rule{
			Name: "s3-access-logging", Description: "Buckets have server access logging.",
			Control: "S3.9", Controls: []string{"S3.9"}, Severity: Medium, DefaultLevel: Advisory,
			Remediation: "add an aws.s3.BucketLoggingV2 with bucket set to the bucket and a targetBucket",
			StackCheck: func(stack []Resource) []Violation {
				return bucketCompanion(stack, TypeS3LoggingV2, "loggings", "bucket has no server access logging; add an aws.s3.BucketLoggingV2 with bucket: <bucket>.id and targetBucket: <log bucket>")
			},
		},
		Rule{
			Name: "s3-lifecycle", Description: "Buckets have a lifecycle configuration.",
			Control: "S3.13", Controls: []string{"S3.13"}, Severity: Low, DefaultLevel: Advisory,
			Remediation: "add an aws.s3.BucketLifecycleConfigurationV2 with bucket set to the bucket",
			StackCheck: func(stack []Resource) []Violation {
				return bucketCompanion(stack, TypeS3LifecycleV2, "lifecycleRules", "bucket has no lifecycle configuration; add an aws.s3.BucketLifecycleConfigurationV2 with bucket: <bucket>.id and an expiration/transition rule")
			},
		},
	)
}

// allTrue requires every listed boolean property to be true (def when missing).
func allTrue(def bool, keys ...string) func(Resource) []Violation {
	return func(r Resource) []Violation {
		var out []Violation
		for _, k := range keys {
			out = append(out, wantBool(r, true, def, "set "+k+": true", k)...)
		}
		return out
	}
}

// bucketCompanion requires each bucket to have a companion resource of a
// type (or a non-empty inline property on the bucket).
func bucketCompanion(stack []Resource, companion, inline, fix string) []Violation {
	buckets := ofTypes(stack, bucketTypes...)
	comps := ofTypes(stack, companion)
	matches := matchRefs(buckets, comps, "bucket", "bucket")
	var out []Violation
	for i, b := range buckets {
		if len(matches[i].sure) > 0 {
			continue
		}
		if v := Get(b.Props, inline); v.Unknown || (v.Known() && v.NonEmpty() && !isEmptyList(v)) {
			continue
		}
		if len(matches[i].maybe) > 0 {
			out = append(out, cannotTellAt(b.URN, "which "+companion+" belongs to this bucket (bucket)"))
			continue
		}
		out = append(out, failAt(b.URN, "%s", fix))
	}
	return out
}

func isEmptyList(v Value) bool {
	n, _ := listLen(v)
	_, isList := v.List()
	return isList && n == 0
}

func checkS3ACL(r Resource) []Violation {
	var out []Violation
	if v := Get(r.Props, "acl"); v.Unknown {
		out = append(out, cannotTell("acl"))
	} else if s, _ := v.Str(); containsFold(publicACLs, s) {
		out = append(out, fail("acl is %q, which grants access to everyone; set acl: \"private\" or remove it", s))
	}
	path := []any{"accessControlPolicy", "grants"}
	if r.Type != TypeS3BucketACLV2 {
		path = []any{"grants"}
	}
	items, _ := Get(r.Props, path...).List()
	for _, it := range items {
		m, _ := it.Map()
		uri, _ := Get(m, "grantee", "uri").Str()
		if uri == "" {
			uri, _ = Get(m, "uri").Str()
		}
		if strings.HasSuffix(uri, "/global/AllUsers") || strings.HasSuffix(uri, "/global/AuthenticatedUsers") {
			out = append(out, fail("a grant is given to %s; remove it and use bucket policies for named principals", uri))
		}
	}
	return out
}
