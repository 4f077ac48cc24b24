package plan

import (
	"fmt"
	"strings"

	"github.com/convirza-sync/convirza-sync/sync/state"
	"github.com/convirza-sync/convirza-sync/sync/state/nearest"
)

// unknownIndustry is the message for an industry word that neither
// Convirza nor the mapping's industries: knows. It names the nearest
// Convirza industry, if one looks like the word, and always the mapping
// line that would map the word. The messages are kept per word: an export
// tends to repeat its words.
func (p *planner) unknownIndustry(word string) string {
	word = strings.TrimSpace(word)
	if msg, ok := p.indHints[word]; ok {
		return msg
	}
	msg := unknownIndustryMessage(word, p.c.Industries)
	if p.indHints == nil {
		p.indHints = map[string]string{}
	}
	p.indHints[word] = msg
	return msg
}

// unknownIndustryMessage is unknownIndustry without the memo.
func unknownIndustryMessage(word string, known []state.Industry) string {
	names := make([]string, 0, len(known))
	for _, in := range known {
		names = append(names, in.Name)
	}
	if s := nearest.Words(word, names); len(s) > 0 {
		return fmt.Sprintf("unknown industry %q (the nearest Convirza industry is %q): to map it, add to the mapping's groups: industries: {%s: %s}",
			word, s[0], nearest.YAMLKey(word), nearest.YAMLKey(s[0]))
	}
	return fmt.Sprintf("unknown industry %q (Convirza has no industry like it): to map it, add to the mapping's groups: industries: {%s: NAME}, with NAME one of Convirza's %d industries",
		word, nearest.YAMLKey(word), len(known))
}
