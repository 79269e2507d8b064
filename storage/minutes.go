package storage

import (
	"context"
	"fmt"
)

// SetCellParent sets the parent organisation's name (Đảng bộ …) that heads the
// cell's minutes.
func (s *Store) SetCellParent(ctx context.Context, cellID int64, parent string) error {
	if err := s.rdb.HSet(ctx, s.keys.Cell(cellID), "parent", parent).Err(); err != nil {
		return fmt.Errorf("storage: parent organisation of cell %d: %w", cellID, err)
	}
	return nil
}
