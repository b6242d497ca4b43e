"""The voucher programme: cities, suppliers, products, enterprises and voucher projects."""
