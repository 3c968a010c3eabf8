package rules

import (
	"fmt"
	"strings"
)

// S3, SNS, KMS and CloudWatch Logs rules.

var bucketTypes = []string{TypeS3BucketV2, TypeS3Bucket}

func init() {
	register(
		Rule{
			Name:         "s3-public-access-block",
			Description:  "Every S3 bucket has a public access block with all four settings true.",
			Control:      "S3.8 (bucket level; S3.1 is the account-level setting)",
			Controls:     []string{"S3.8"},
			Severity:     High,
			Remediation:  "add an aws.s3.BucketPublicAccessBlock with all four settings true",
			DefaultLevel: Mandatory,
			StackCheck:   checkPublicAccessBlock,
		},
		Rule{
			Name:         "s3-default-encryption",
			Description:  "Every S3 bucket has a default server-side encryption configuration.",
			Control:      "Checkov CKV_AWS_19 (FSBP S3.17 additionally requires SSE-KMS)",
			Controls:     []string{"CKV_AWS_19"},
			Severity:     Medium,
			Remediation:  "add an aws.s3.BucketServerSideEncryptionConfigurationV2 with rules[0].applyServerSideEncryptionByDefault.sseAlgorithm",
			DefaultLevel: Mandatory,
			StackCheck:   checkBucketEncryption,
		},
		Rule{
			Name:         "s3-tls-only",
			Description:  "Every S3 bucket has a bucket policy denying requests without TLS (aws:SecureTransport false).",
			Control:      "S3.5",
			Controls:     []string{"S3.5"},
			Severity:     Medium,
			Remediation:  "add a bucket policy statement denying aws:SecureTransport false",
			DefaultLevel: Mandatory,
			StackCheck:   checkBucketTLS,
		},
		Rule{
			Name:         "sns-topic-kms",
			Description:  "SNS topics are encrypted with KMS.",
			Control:      "SNS.1",
			Controls:     []string{"SNS.1"},
			Severity:     Medium,
			Remediation:  "set kmsMasterKeyId",
			DefaultLevel: Mandatory,
			Types:        []string{TypeSNSTopic},
			Check: func(r Resource) []Violation {
				return wantSet(r, "set kmsMasterKeyId to a customer-managed KMS key (its key policy must allow CloudWatch alarms to use it)", "kmsMasterKeyId")
			},
		},
		Rule{
			Name:         "kms-key-rotation",
			Description:  "Symmetric KMS keys rotate automatically.",
			Control:      "KMS.4",
			Controls:     []string{"KMS.4", "CIS 3.6"},
			Severity:     Medium,
			Remediation:  "set enableKeyRotation: true",
			DefaultLevel: Mandatory,
			Types:        []string{TypeKMSKey},
			Check: func(r Resource) []Violation {
				spec := Get(r.Props, "customerMasterKeySpec")
				if spec.Unknown {
					return []Violation{cannotTell("customerMasterKeySpec")}
				}
				if s, ok := spec.Str(); ok && s != "" && !strings.EqualFold(s, "SYMMETRIC_DEFAULT") {
					return nil // rotation is only available for symmetric encryption keys
				}
				usage := Get(r.Props, "keyUsage")
				if usage.Unknown {
					return []Violation{cannotTell("keyUsage")}
				}
				if s, ok := usage.Str(); ok && s != "" && !strings.EqualFold(s, "ENCRYPT_DECRYPT") {
					return nil
				}
				return wantBool(r, true, false, "set enableKeyRotation: true", "enableKeyRotation")
			},
		},
		Rule{
			Name:         "log-group-retention",
			Description:  "CloudWatch log groups have a finite retention.",
			Control:      "Checkov CKV_AWS_66 (no FSBP control)",
			Controls:     []string{"CKV_AWS_66"},
			Severity:     Medium,
			Remediation:  "set retentionInDays",
			DefaultLevel: Mandatory,
			Types:        []string{TypeLogGroup},
			Check: func(r Resource) []Violation {
				v := Get(r.Props, "retentionInDays")
				if v.Unknown {
					return []Violation{cannotTell("retentionInDays")}
				}
				if n, ok := v.Num(); ok && n > 0 {
					return nil
				}
				shown := describe(v)
				if v.Missing {
					shown = "not set (provider default 0: never expire)"
				}
				return []Violation{fail("retentionInDays is %s; set retentionInDays (e.g. 30 for dev, 365 for prod)", shown)}
			},
		},
	)
}

// bucketCoverage evaluates, for each bucket, whether a companion resource
// satisfies ok. inline (may be nil) checks the bucket's own deprecated inline
// settings first. what names the companion for messages.
func bucketCoverage(stack []Resource, companionType string, inline func(Resource) (bool, []Violation),
	ok func(Resource) (bool, []Violation), missingFix string, badFix func(Resource, []Violation) string,
) []Violation {
	buckets := ofTypes(stack, bucketTypes...)
	comps := ofTypes(stack, companionType)
	matches := matchRefs(buckets, comps, "bucket", "bucket")
	var out []Violation
	for i, b := range buckets {
		if inline != nil {
			if good, notes := inline(b); good {
				continue
			} else if len(notes) > 0 {
				out = append(out, fill(notes, b.URN)...)
				continue
			}
		}
		good := false
		var bad []Resource
		var badWhy [][]Violation
		var notes []Violation
		for _, c := range matches[i].sure {
			g, why := ok(c)
			switch {
			case g:
				good = true
			case len(why) > 0 && why[0].Note:
				notes = append(notes, fill(why, c.URN)...)
			default:
				bad = append(bad, c)
				badWhy = append(badWhy, why)
			}
		}
		if good {
			continue
		}
		if len(notes) > 0 {
			out = append(out, notes...)
			continue
		}
		if len(bad) > 0 {
			for j, c := range bad {
				out = append(out, failAt(c.URN, "%s", badFix(b, badWhy[j])))
			}
			continue
		}
		if len(matches[i].maybe) > 0 {
			out = append(out, cannotTellAt(b.URN, "which "+companionType+" belongs to this bucket (bucket)"))
			continue
		}
		out = append(out, failAt(b.URN, "%s", missingFix))
	}
	return out
}

func checkPublicAccessBlock(stack []Resource) []Violation {
	keys := []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"}
	return bucketCoverage(stack, TypeS3PublicAccessBlock, nil,
		func(c Resource) (bool, []Violation) {
			var off []string
			for _, k := range keys {
				v := Get(c.Props, k)
				if v.Unknown {
					return false, []Violation{cannotTell(k)}
				}
				if b, ok := v.Bool(); !ok || !b {
					off = append(off, k)
				}
			}
			if len(off) == 0 {
				return true, nil
			}
			return false, []Violation{fail("%s", strings.Join(off, ", "))}
		},
		"bucket has no aws.s3.BucketPublicAccessBlock; add one with bucket: <bucket>.id and blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets all true",
		func(b Resource, why []Violation) string {
			off := ""
			if len(why) > 0 {
				off = why[0].Message
			}
			return fmt.Sprintf("public access block of bucket %s does not set %s to true; set all four settings to true", b.Name, off)
		})
}

func sseRulesOK(rules Value) (bool, []Violation) {
	if rules.Unknown {
		return false, []Violation{cannotTell("rules")}
	}
	items, _ := rules.List()
	if _, ok := rules.Map(); ok { // single object form (aws.s3.Bucket's rule)
		items = []Value{rules}
	}
	for _, it := range items {
		m, ok := it.Map()
		if !ok {
			if it.Unknown {
				return false, []Violation{cannotTell("rules")}
			}
			continue
		}
		alg := Get(m, "applyServerSideEncryptionByDefault", "sseAlgorithm")
		if alg.Unknown {
			return false, []Violation{cannotTell("sseAlgorithm")}
		}
		if s, ok := alg.Str(); ok && strings.TrimSpace(s) != "" {
			return true, nil
		}
	}
	return false, nil
}

func checkBucketEncryption(stack []Resource) []Violation {
	return bucketCoverage(stack, TypeS3SSEConfigV2,
		func(b Resource) (bool, []Violation) {
			// Deprecated inline configuration: BucketV2.serverSideEncryptionConfigurations[].rules,
			// Bucket.serverSideEncryptionConfiguration.rule.
			if b.Type == TypeS3Bucket {
				v := Get(b.Props, "serverSideEncryptionConfiguration", "rule")
				if v.Missing {
					return false, nil
				}
				return sseRulesOK(v)
			}
			v := Get(b.Props, "serverSideEncryptionConfigurations")
			if v.Unknown {
				return false, nil // the companion resource may still configure it
			}
			items, _ := v.List()
			for _, it := range items {
				if m, ok := it.Map(); ok {
					if good, _ := sseRulesOK(Get(m, "rules")); good {
						return true, nil
					}
				}
			}
			return false, nil
		},
		func(c Resource) (bool, []Violation) {
			good, notes := sseRulesOK(Get(c.Props, "rules"))
			if good || len(notes) > 0 {
				return good, notes
			}
			return false, []Violation{fail("no rule sets applyServerSideEncryptionByDefault.sseAlgorithm")}
		},
		"bucket has no default encryption; add an aws.s3.BucketServerSideEncryptionConfigurationV2 with bucket: <bucket>.id and rules: [{applyServerSideEncryptionByDefault: {sseAlgorithm: \"aws:kms\", kmsMasterKeyId: <key>}, bucketKeyEnabled: true}]",
		func(b Resource, _ []Violation) string {
			return fmt.Sprintf("encryption configuration of bucket %s sets no sseAlgorithm; add rules: [{applyServerSideEncryptionByDefault: {sseAlgorithm: \"aws:kms\"}}]", b.Name)
		})
}

func checkBucketTLS(stack []Resource) []Violation {
	return bucketCoverage(stack, TypeS3BucketPolicy,
		func(b Resource) (bool, []Violation) {
			v := Get(b.Props, "policy")
			if !v.Known() {
				return false, nil
			}
			good, _ := policyDeniesInsecureTransport(v)
			return good, nil
		},
		func(c Resource) (bool, []Violation) {
			return policyDeniesInsecureTransport(Get(c.Props, "policy"))
		},
		"bucket has no TLS-only policy; add an aws.s3.BucketPolicy with a statement {Effect: Deny, Principal: \"*\", Action: \"s3:*\", Resource: [<bucket ARN>, <bucket ARN>/*], Condition: {Bool: {\"aws:SecureTransport\": \"false\"}}}",
		func(b Resource, _ []Violation) string {
			return fmt.Sprintf("policy of bucket %s does not deny aws:SecureTransport=false; add a Deny statement with Condition {Bool: {\"aws:SecureTransport\": \"false\"}}", b.Name)
		})
}

// policyDeniesInsecureTransport reports whether an S3 bucket policy document
// has a Deny statement conditioned on aws:SecureTransport = false.
func policyDeniesInsecureTransport(v Value) (bool, []Violation) {
	doc, unknown, err := JSONDoc(v)
	if unknown {
		return false, []Violation{cannotTell("policy")}
	}
	if err != nil || doc == nil {
		return false, nil
	}
	m, _ := doc.(map[string]any)
	st, _ := lookupCI(m, "Statement")
	for _, s := range objList(st) {
		eff, _ := lookupCI(s, "Effect")
		if es, _ := eff.(string); !strings.EqualFold(es, "Deny") {
			continue
		}
		cond, _ := lookupCI(s, "Condition")
		cm, _ := cond.(map[string]any)
		b, _ := lookupCI(cm, "Bool")
		bm, _ := b.(map[string]any)
		val, _ := lookupCI(bm, "aws:SecureTransport")
		for _, x := range append(strList(val), boolStrings(val)...) {
			if strings.EqualFold(strings.TrimSpace(x), "false") {
				return true, nil
			}
		}
	}
	return false, nil
}

func boolStrings(x any) []string {
	switch t := x.(type) {
	case bool:
		return []string{fmt.Sprint(t)}
	case []any:
		var out []string
		for _, e := range t {
			if b, ok := e.(bool); ok {
				out = append(out, fmt.Sprint(b))
			}
		}
		return out
	}
	return nil
}
