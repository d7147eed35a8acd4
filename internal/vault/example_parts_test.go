package vault_test

import (
	"fmt"

	"github.com/evidencevault/vault/internal/vault"
)

// A 2 GiB file goes in 64 MiB parts; a 5 TiB file needs larger parts to
// stay within S3's 10,000.
func ExamplePlanParts() {
	for _, size := range []int64{2 << 30, 5 << 40} {
		plan, problems := vault.PlanParts(size, 0)
		fmt.Printf("%d bytes: %d parts of %d MiB, problems: %d\n", size, plan.Parts, plan.PartSize>>20, len(problems))
	}
	_, problems := vault.PlanParts(100<<30, 5<<20)
	fmt.Println(problems[0].Pointer, problems[0].Detail)
	// Output:
	// 2147483648 bytes: 32 parts of 64 MiB, problems: 0
	// 5497558138880 bytes: 9987 parts of 525 MiB, problems: 0
	// /partSize makes 20480 parts; at most 10000 are allowed, so use parts of at least 10737419 bytes
}
