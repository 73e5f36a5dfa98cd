CREATE TABLE customers (
id int primary key ,
first_name varchar(65533) NULL,
last_name varchar(65533) NULL ,
email varchar(65533) NULL
);

INSERT INTO customers VALUES (1,'a','a','a@a.com');
