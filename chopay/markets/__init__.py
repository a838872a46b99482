"""Markets (chợ): registration, location in both schemes, declared stall counts."""
