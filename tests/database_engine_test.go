package tests

import (
	"slices"
	"testing"
)

// TestDatabaseEngineVersionSurvivesMinorUpgrades: AWS upgrades the
// cluster's minor version in the maintenance window (autoMinorVersionUpgrade);
// after a refresh the configured version would be a downgrade. The engine
// version is ignored after creation unless books:database.engineUpgrade
// says to apply it (the documented upgrade path).
func TestDatabaseEngineVersionSurvivesMinorUpgrades(t *testing.T) {
	for _, stack := range stacks(t) {
		c := only(t, stackGraph(t, stack), "aws:rds/cluster:Cluster")
		if !slices.Contains(c.IgnoreChanges, "engineVersion") {
			t.Errorf("%s: cluster ignoreChanges %v lack engineVersion: an automatic minor upgrade plans a downgrade", stack, c.IgnoreChanges)
		}
		if propBool(c, "allowMajorVersionUpgrade") {
			t.Errorf("%s: major upgrades allowed without books:database.engineUpgrade", stack)
		}
	}
	up := mustRunWith(t, "prod", "database", map[string]any{"engineUpgrade": true, "engineVersion": "16.8"})
	c := only(t, up, "aws:rds/cluster:Cluster")
	if slices.Contains(c.IgnoreChanges, "engineVersion") {
		t.Error("books:database.engineUpgrade=true still ignores the engine version")
	}
	if propString(c, "engineVersion") != "16.8" || !propBool(c, "applyImmediately") {
		t.Errorf("upgrade run: engineVersion %q applyImmediately %v", propString(c, "engineVersion"), propBool(c, "applyImmediately"))
	}
}
