package state

import "strings"

// Role is a user's role in canonical form.
type Role string

// The three roles Convirza knows.
const (
	RoleAdmin    Role = "admin"
	RoleStandard Role = "standard"
	RoleReadOnly Role = "readonly"
)

// ParseRole reads a role in any spelling the API or a CRM uses: "Admin",
// "Administrator", "Standard User", "read-only", "Read Only User", or a
// role_id ("1", "2", "3"). Case and punctuation are ignored.
func ParseRole(s string) (Role, bool) {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	k := strings.TrimSuffix(b.String(), "user")
	switch k {
	case "admin", "administrator", "1":
		return RoleAdmin, true
	case "standard", "2":
		return RoleStandard, true
	case "readonly", "read", "viewer", "3":
		return RoleReadOnly, true
	}
	return "", false
}

// RoleFromID maps a role_id (1=Admin, 2=Standard, 3=ReadOnly) to a Role.
func RoleFromID(id int) (Role, bool) {
	switch id {
	case 1:
		return RoleAdmin, true
	case 2:
		return RoleStandard, true
	case 3:
		return RoleReadOnly, true
	}
	return "", false
}

// APIName is the spelling sent to the API: "Admin", "Standard" or "ReadOnly".
func (r Role) APIName() string {
	switch r {
	case RoleAdmin:
		return "Admin"
	case RoleStandard:
		return "Standard"
	case RoleReadOnly:
		return "ReadOnly"
	}
	return string(r)
}

// ID is the role_id: 1, 2 or 3 (0 when unknown).
func (r Role) ID() int {
	switch r {
	case RoleAdmin:
		return 1
	case RoleStandard:
		return 2
	case RoleReadOnly:
		return 3
	}
	return 0
}
