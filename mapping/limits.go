package mapping

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Bounds on a mapping file. goccy/go-yaml has no limit of its own on
// alias expansion, so a "billion laughs" file (aliases of aliases) is
// measured on its syntax tree before it is decoded.
const (
	// maxMappingBytes is far above any real mapping (hundreds of lines).
	maxMappingBytes = 1 << 20
	// maxMappingNodes bounds the nodes of the document with every alias
	// expanded.
	maxMappingNodes = 100_000
)

// checkMappingBounds refuses a mapping that is too big, as written or
// once its aliases are expanded. It returns the parsed tree, or nil when
// the file is not YAML (for the decoder to report).
func checkMappingBounds(b []byte, file string) (*ast.File, *FileError) {
	if len(b) > maxMappingBytes {
		return nil, &FileError{File: file, Message: fmt.Sprintf("mapping: the file is %d bytes; a mapping is at most %d (is this the right file?)", len(b), maxMappingBytes)}
	}
	tree, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, nil // the decoder reports it, with its line
	}
	anchors := map[string]ast.Node{}
	memo := map[ast.Node]int{}
	total := 0
	for _, d := range tree.Docs {
		total += expandedSize(d, anchors, memo, 0)
		if total > maxMappingNodes {
			return nil, &FileError{File: file, Message: fmt.Sprintf("mapping: the file expands to more than %d values through its aliases (*name); write the values out", maxMappingNodes)}
		}
	}
	return tree, nil
}

// expandedSize counts the nodes under n with aliases expanded, stopping
// early past the limit; memo holds the size of each anchored node.
func expandedSize(n ast.Node, anchors map[string]ast.Node, memo map[ast.Node]int, depth int) int {
	if n == nil {
		return 0
	}
	if depth > 200 {
		return maxMappingNodes + 1
	}
	if s, ok := memo[n]; ok {
		return s
	}
	size := 1
	add := func(c ast.Node) {
		if size <= maxMappingNodes {
			size += expandedSize(c, anchors, memo, depth+1)
		}
	}
	switch t := n.(type) {
	case *ast.DocumentNode:
		add(t.Body)
	case *ast.MappingNode:
		for _, v := range t.Values {
			add(v)
		}
	case *ast.MappingValueNode:
		add(t.Key)
		add(t.Value)
	case *ast.SequenceNode:
		for _, v := range t.Values {
			add(v)
		}
	case *ast.TagNode:
		add(t.Value)
	case *ast.AnchorNode:
		if t.Name != nil {
			anchors[t.Name.String()] = t.Value
		}
		add(t.Value)
	case *ast.AliasNode:
		if t.Value != nil {
			if target, ok := anchors[t.Value.String()]; ok {
				add(target)
			}
		}
	}
	if size > maxMappingNodes {
		size = maxMappingNodes + 1
	}
	memo[n] = size
	return size
}
