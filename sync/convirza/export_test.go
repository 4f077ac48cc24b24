package convirza

// TokensForTest returns the tokens the client holds now, so that the
// external tests can check that no error or log line carries them.
func (c *Client) TokensForTest() (access, refresh string) {
	c.auth.mu.Lock()
	defer c.auth.mu.Unlock()
	return c.auth.access, c.auth.refresh
}
