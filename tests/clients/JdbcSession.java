// One scripted session through PostgreSQL's JDBC driver against a running server.
// Usage: java -cp postgresql.jar JdbcSession.java PORT
// Exits non-zero, naming the failing check, if anything differs from what PostgreSQL does.

import java.sql.*;
import java.util.*;

public class JdbcSession {
    static void check(String label, Object got, Object want) {
        if (!Objects.equals(got, want)) {
            System.err.println(label + ": got " + got + ", want " + want);
            System.exit(1);
        }
        System.out.println("ok - " + label);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/bytedata";
        try (Connection conn = DriverManager.getConnection(url, "bytedata", "")) {
            try (Statement st = conn.createStatement()) {
                st.execute("DROP TABLE IF EXISTS jdbc_stock");
                st.execute("CREATE TABLE jdbc_stock (warehouse int, item varchar(20), "
                        + "quantity bigint NOT NULL, price numeric(10,2), PRIMARY KEY (warehouse, item))");
            }
            try (PreparedStatement insert =
                    conn.prepareStatement("INSERT INTO jdbc_stock VALUES (?, ?, ?, ?)")) {
                for (int w = 1; w <= 3; w++) {
                    for (String item : new String[] {"apple", "bolt", "cable", "drill"}) {
                        insert.setInt(1, w);
                        insert.setString(2, item);
                        insert.setLong(3, w * 100L + item.length());
                        insert.setBigDecimal(4, new java.math.BigDecimal(w + ".50"));
                        insert.addBatch();
                    }
                }
                int[] counts = insert.executeBatch();
                check("jdbc batch insert", counts.length, 12);
            }
            // Past the driver's prepareThreshold (5), it switches to named server statements.
            try (PreparedStatement range = conn.prepareStatement(
                    "SELECT item, quantity FROM jdbc_stock WHERE warehouse = ? AND item >= ? AND item < ? ORDER BY item")) {
                List<String> got = new ArrayList<>();
                for (int i = 0; i < 7; i++) {
                    range.setInt(1, 2);
                    range.setString(2, "b");
                    range.setString(3, "d");
                    got.clear();
                    try (ResultSet rs = range.executeQuery()) {
                        while (rs.next()) got.add(rs.getString(1) + "=" + rs.getLong(2));
                    }
                }
                check("jdbc range select", got, List.of("bolt=204", "cable=205"));
            }

            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                check("jdbc delete count", st.executeUpdate("DELETE FROM jdbc_stock WHERE warehouse = 1"), 4);
            }
            conn.rollback();
            conn.setAutoCommit(true);
            try (Statement st = conn.createStatement();
                    ResultSet rs = st.executeQuery("SELECT count(*) FROM jdbc_stock")) {
                rs.next();
                check("jdbc rollback keeps rows", rs.getLong(1), 12L);
            }

            try (Statement st = conn.createStatement()) {
                st.executeUpdate("INSERT INTO jdbc_stock VALUES (1, 'apple', 1, 1)");
                check("jdbc duplicate key accepted", true, false);
            } catch (SQLException e) {
                check("jdbc unique violation sqlstate", e.getSQLState(), "23505");
            }

            DatabaseMetaData meta = conn.getMetaData();
            check("jdbc server version", meta.getDatabaseMajorVersion() >= 15, true);
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = meta.getTables(null, "public", "jdbc_%", new String[] {"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
            }
            check("jdbc getTables", tables, List.of("jdbc_stock:TABLE"));
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = meta.getColumns(null, "public", "jdbc_stock", "%")) {
                while (rs.next()) {
                    columns.add(rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME") + " "
                            + rs.getInt("COLUMN_SIZE") + " " + rs.getString("IS_NULLABLE"));
                }
            }
            check("jdbc getColumns", columns, List.of(
                    "warehouse int4 10 NO", "item varchar 20 NO", "quantity int8 19 NO", "price numeric 10 YES"));
            List<String> keys = new ArrayList<>();
            try (ResultSet rs = meta.getPrimaryKeys(null, "public", "jdbc_stock")) {
                while (rs.next()) {
                    keys.add(rs.getString("COLUMN_NAME") + "@" + rs.getInt("KEY_SEQ") + " " + rs.getString("PK_NAME"));
                }
            }
            check("jdbc getPrimaryKeys", keys, List.of("warehouse@1 jdbc_stock_pkey", "item@2 jdbc_stock_pkey"));
        }
        System.out.println("jdbc client: all checks passed");
    }
}
