"""Invoices are immutable once issued: their number, amounts, dates, PDF and lines never
change, and nothing issued is ever deleted. Enforced by the database itself, whatever
writes (the app, the admin, a script); only the payment progress (status, batch, paid_at,
payment reference) may move."""

from django.db import migrations

SQL = """
CREATE FUNCTION billing_invoice_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Une facture émise ne se supprime pas (n° %).', OLD.number USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.organisme_id, NEW.kind, NEW.sequence, NEW.number, NEW.total_ht_cents, NEW.total_tva_cents, NEW.total_ttc_cents,
        NEW.issued_at, NEW.due_date, NEW.pdf, NEW.reason, NEW.issued_by_id) IS DISTINCT FROM
       (OLD.organisme_id, OLD.kind, OLD.sequence, OLD.number, OLD.total_ht_cents, OLD.total_tva_cents, OLD.total_ttc_cents,
        OLD.issued_at, OLD.due_date, OLD.pdf, OLD.reason, OLD.issued_by_id)
       OR NEW.credited_invoice_id IS DISTINCT FROM OLD.credited_invoice_id THEN
        RAISE EXCEPTION 'Une facture émise ne se modifie pas (n° %) : émettez un avoir.', OLD.number USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();

CREATE FUNCTION billing_invoiceline_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Une ligne de facture émise ne se modifie pas.' USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER billing_invoiceline_immutable BEFORE UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_immutable();
"""

REVERSE = """
DROP TRIGGER billing_invoiceline_immutable ON billing_invoiceline;
DROP FUNCTION billing_invoiceline_immutable();
DROP TRIGGER billing_invoice_immutable ON billing_invoice;
DROP FUNCTION billing_invoice_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
