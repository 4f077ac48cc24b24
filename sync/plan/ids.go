package plan

// The planner's tables are slices, and their indexes have one type per
// table, so that an index into one cannot be used for another by mistake.
// Each type has its "none", in place of a bare -1.

// groupIdx indexes planner.groups: the current groups under the root in
// breadth-first order (the root is rootGroup), then the groups the plan
// creates.
type groupIdx int32

const (
	noGroup   groupIdx = -1
	rootGroup groupIdx = 0
)

// rowIdx indexes planner.groupRows, the export's group rows, in the
// export's order.
type rowIdx int32

const noRow rowIdx = -1

// userIdx indexes planner.users, the current users under the root.
type userIdx int32

const noUser userIdx = -1

// userRowIdx indexes planner.userRows, the export's user rows, in the
// export's order.
type userRowIdx int32

const noUserRow userRowIdx = -1
